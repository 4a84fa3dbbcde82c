// Native handle lifetimes. libvirt objects are reference counted; every in-flight call takes
// its own reference on the main thread when it is queued and drops it on the worker thread when
// it is done, so close() or GC while calls are in flight never frees memory a worker still uses.
#pragma once
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <atomic>
#include <map>
#include <memory>

#include "lifecycle_events.h"

namespace agentfleet {

// libvirt references held by live JS handles, process-wide (every environment, every thread):
// the number a leak check compares exactly, where memory would only be a noisy proxy.
struct LiveHandles {
  static inline std::atomic<long> connections{0};
  static inline std::atomic<long> domains{0};
};

// libvirt's close callback (event-loop thread): records why the transport went away (daemon
// restarted or died: EOF; keepalive timeout; error), so a caller can tell a dead connection from
// a live one without a round trip and open a new one.
inline void OnConnectionClosed(virConnectPtr, int reason, void* opaque) {
  static_cast<std::atomic<int>*>(opaque)->store(reason);
}

struct ConnState {
  explicit ConnState(virConnectPtr c) : conn(c) {
    ++LiveHandles::connections;
    // No free callback: the opaque is this object's own field, and Release unregisters before
    // the reference goes. Drivers without close events (test://) accept and never call it.
    if (virConnectRegisterCloseCallback(conn, OnConnectionClosed, &closeReason, nullptr) < 0) virResetLastError();
  }
  // A connection collected with subscriptions open: they end with it.
  ~ConnState() { EndNow(false); }

  // Ends subscriptions and drops the reference on the calling thread (GC, environment teardown).
  // Deregistering matters: each libvirt callback holds its own connection reference.
  // `teardown`: Node is closing every ThreadSafeFunction itself, so they are only abandoned.
  void EndNow(bool teardown) {
    for (auto& [id, sink] : sinks) {
      if (teardown)
        sink->Abandon();
      else
        sink->Shutdown();
      if (!released) virConnectDomainEventDeregisterAny(conn, id);
    }
    sinks.clear();
    Release();
  }
  ConnState(const ConnState&) = delete;
  ConnState& operator=(const ConnState&) = delete;

  // Drops this handle's own libvirt reference, once. The connection itself is torn down by
  // libvirt when the last reference (in-flight call, domain handle) is gone.
  void Release() {
    if (!released.exchange(true)) {
      // The registered callback holds a connection reference of its own: without this the
      // connection (a socket, for remote URIs) would outlive close().
      if (virConnectUnregisterCloseCallback(conn, OnConnectionClosed) < 0) virResetLastError();
      virConnectClose(conn);
      --LiveHandles::connections;
    }
  }

  virConnectPtr conn;
  // Main thread only: once set no new call is queued, so no new reference is taken.
  bool closed = false;
  std::atomic<bool> released{false};
  // virConnectCloseReason once the transport closed under us, -1 while it has not.
  std::atomic<int> closeReason{-1};
  // Main thread only: lifecycle subscriptions by libvirt callback id.
  std::map<int, std::shared_ptr<EventSink>> sinks;
};

struct DomainHandle {
  DomainHandle(virDomainPtr d, std::shared_ptr<ConnState> c) : dom(d), conn(std::move(c)) {
    ++LiveHandles::domains;
  }
  ~DomainHandle() { Free(); }
  DomainHandle(const DomainHandle&) = delete;
  DomainHandle& operator=(const DomainHandle&) = delete;

  void Free() {
    if (virDomainPtr d = dom.exchange(nullptr)) {
      virDomainFree(d);
      --LiveHandles::domains;
    }
  }

  std::atomic<virDomainPtr> dom;
  std::shared_ptr<ConnState> conn;
};

// RAII references held by queued work. Created on the main thread, destroyed on the worker.
struct ConnRef {
  explicit ConnRef(virConnectPtr c) : conn(c) { virConnectRef(conn); }
  ~ConnRef() { virConnectClose(conn); }
  ConnRef(const ConnRef&) = delete;
  ConnRef& operator=(const ConnRef&) = delete;
  virConnectPtr conn;
};

// `conn` is borrowed: the domain reference keeps the connection alive. It is stored because
// virDomainGetConnect would reset the thread's last error before it could be copied.
struct DomRef {
  DomRef(virDomainPtr d, virConnectPtr c) : dom(d), conn(c) { virDomainRef(dom); }
  ~DomRef() { virDomainFree(dom); }
  DomRef(const DomRef&) = delete;
  DomRef& operator=(const DomRef&) = delete;
  virDomainPtr dom;
  virConnectPtr conn;
};

}  // namespace agentfleet
