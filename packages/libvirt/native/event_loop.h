// libvirt's default event loop on its own thread (node-pty style: a long wait gets a dedicated
// thread, not a libuv pool slot). Remote connections need it running: it answers the daemon's
// keepalives and delivers domain events.
#pragma once

namespace agentfleet::event_loop {

// virEventRegisterDefaultImpl, once per process; must precede any virConnectOpen.
void Register();
// Starts the thread running virEventRunDefaultImpl if it is not running. Main thread.
// `envFlag` (per Node environment) counts each environment once, so a worker thread's exit
// does not stop the loop other environments' connections still need.
void Start(bool& envFlag);
// Environment teardown: stops the thread when no other environment uses it.
void Leave(bool& envFlag);
// Stops and joins the thread now; idempotent. The next Start restarts it.
void Stop();
bool Running();

}  // namespace agentfleet::event_loop
