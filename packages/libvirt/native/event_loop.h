// libvirt's default event loop on its own thread (node-pty style: a long wait gets a dedicated
// thread, not a libuv pool slot). Remote connections need it running: it answers the daemon's
// keepalives and delivers domain events.
#pragma once

namespace agentfleet::event_loop {

// virEventRegisterDefaultImpl, once per process; must precede any virConnectOpen.
void Register();
// Starts the thread running virEventRunDefaultImpl if it is not running. Main thread.
void Start();
// Stops and joins the thread; idempotent. Main thread.
void Stop();
bool Running();

}  // namespace agentfleet::event_loop
