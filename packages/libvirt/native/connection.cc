#include "connection.h"

#include <libvirt/virterror.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "addon_data.h"
#include "args.h"
#include "domain.h"
#include "event_loop.h"
#include "job.h"
#include "lifecycle_events.h"

namespace agentfleet {

namespace {

struct NodeInfo {
  virNodeInfo info{};
};

struct DomainRow {
  std::string name;
  std::string uuid;
  int id = -1;
  int state = 0;
  int reason = 0;
  bool persistent = false;
};

}  // namespace

Napi::Function Connection::Define(Napi::Env env) {
  return DefineClass(
      env, "Connection",
      {
          InstanceMethod<&Connection::Close>("close"),
          InstanceMethod<&Connection::IsClosed>("isClosed"),
          InstanceMethod<&Connection::IsAlive>("isAlive"),
          InstanceMethod<&Connection::CloseReason>("closeReason"),
          InstanceMethod<&Connection::GetURI>("getURI"),
          InstanceMethod<&Connection::GetLibVersion>("getLibVersion"),
          InstanceMethod<&Connection::GetVersion>("getVersion"),
          InstanceMethod<&Connection::GetHostname>("getHostname"),
          InstanceMethod<&Connection::GetCapabilities>("getCapabilities"),
          InstanceMethod<&Connection::GetDomainCapabilities>("getDomainCapabilities"),
          InstanceMethod<&Connection::GetNodeInfo>("getNodeInfo"),
          InstanceMethod<&Connection::ListAllDomains>("listAllDomains"),
          InstanceMethod<&Connection::LookupDomainByName>("lookupDomainByName"),
          InstanceMethod<&Connection::LookupDomainByUUIDString>("lookupDomainByUUIDString"),
          InstanceMethod<&Connection::DefineDomain>("defineDomain"),
          InstanceMethod<&Connection::CreateDomain>("createDomain"),
          InstanceMethod<&Connection::RegisterLifecycleEvents>("registerLifecycleEvents"),
          InstanceMethod<&Connection::DeregisterEvent>("deregisterEvent"),
          InstanceMethod<&Connection::GetAllDomainStats>("getAllDomainStats"),
          InstanceMethod<&Connection::StoragePoolInfo>("storagePoolInfo"),
          InstanceMethod<&Connection::StoragePoolDefine>("storagePoolDefine"),
          InstanceMethod<&Connection::StoragePoolBuild>("storagePoolBuild"),
          InstanceMethod<&Connection::StoragePoolCreate>("storagePoolCreate"),
          InstanceMethod<&Connection::StoragePoolRefresh>("storagePoolRefresh"),
          InstanceMethod<&Connection::StoragePoolSetAutostart>("storagePoolSetAutostart"),
          InstanceMethod<&Connection::StoragePoolDestroy>("storagePoolDestroy"),
          InstanceMethod<&Connection::StoragePoolUndefine>("storagePoolUndefine"),
          InstanceMethod<&Connection::StorageVolList>("storageVolList"),
          InstanceMethod<&Connection::StorageVolInfo>("storageVolInfo"),
          InstanceMethod<&Connection::StorageVolCreate>("storageVolCreate"),
          InstanceMethod<&Connection::StorageVolDelete>("storageVolDelete"),
          InstanceMethod<&Connection::StorageVolUpload>("storageVolUpload"),
      });
}

Napi::Object Connection::NewInstance(Napi::Env env, std::shared_ptr<ConnState> state) {
  AddonData* data = AddonData::Of(env);
  AddonData::Track(data->connections, state);
  return data->connectionCtor.New({Napi::External<std::shared_ptr<ConnState>>::New(env, &state)});
}

Connection::Connection(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Connection>(info) {
  if (info.Length() != 1 || !info[0].IsExternal())
    throw Napi::TypeError::New(info.Env(), "Connection is created by open()");
  state_ = *info[0].As<Napi::External<std::shared_ptr<ConnState>>>().Data();
}

Napi::Value Connection::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::optional<std::string> uri = OptString(info[0]);
  unsigned int flags = Flags(info, 1);
  // The loop must run before a remote connection exists, or daemon keepalives go unanswered.
  event_loop::Start(AddonData::Of(env)->usesEventLoop);
  return Job<virConnectPtr>::Run(
      env,
      [uri, flags](virConnectPtr& out, LvError& err) {
        out = virConnectOpenAuth(CStr(uri), nullptr, flags);
        if (out == nullptr) err.Capture("virConnectOpenAuth");
        return out != nullptr;
      },
      [](Napi::Env env, virConnectPtr& conn) -> Napi::Value {
        return NewInstance(env, std::make_shared<ConnState>(conn));
      });
}

Napi::Value Connection::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto deferred = Napi::Promise::Deferred::New(env);
  if (state_->closed) {
    deferred.Resolve(env.Undefined());
    return deferred.Promise();
  }
  state_->closed = true;
  // Deliveries stop now; the daemon round trips (deregister, last unref) happen on the pool.
  std::vector<int> ids;
  for (auto& [id, sink] : state_->sinks) {
    sink->Shutdown();
    ids.push_back(id);
  }
  state_->sinks.clear();
  auto state = state_;
  return Job<bool>::Run(
      env,
      [state, ids](bool&, LvError&) {
        // Each registered callback holds a connection reference: without this the
        // connection (a socket, for remote URIs) would outlive close().
        for (int id : ids) virConnectDomainEventDeregisterAny(state->conn, id);
        state->Release();
        return true;
      },
      [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
}

Napi::Value Connection::IsClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_->closed);
}

// virConnectIsAlive only inspects local transport state, so it is synchronous.
Napi::Value Connection::IsAlive(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !state_->closed && virConnectIsAlive(state_->conn) == 1);
}

// Set by libvirt's close callback on the event-loop thread (handles.h); -1 while open.
Napi::Value Connection::CloseReason(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), state_->closeReason.load());
}

// virConnectGetURI formats the URI the connection holds; no daemon round trip.
Napi::Value Connection::GetURI(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_->closed)
    throw Napi::Error(env, LvError::Binding(VIR_ERR_INVALID_CONN, "virConnectGetURI", "connection is closed").ToJs(env));
  char* uri = virConnectGetURI(state_->conn);
  if (uri == nullptr) {
    LvError err;
    err.Capture("virConnectGetURI");
    throw Napi::Error(env, err.ToJs(env));
  }
  return Napi::String::New(env, Take(uri));
}

Napi::Value Connection::GetLibVersion(const Napi::CallbackInfo& info) {
  return Run<unsigned long>(
      info, "virConnectGetLibVersion",
      [](virConnectPtr c, unsigned long& v, LvError& err) {
        if (virConnectGetLibVersion(c, &v) == 0) return true;
        err.Capture("virConnectGetLibVersion", c);
        return false;
      },
      [](Napi::Env env, unsigned long& v) -> Napi::Value { return Napi::Number::New(env, double(v)); });
}

Napi::Value Connection::GetVersion(const Napi::CallbackInfo& info) {
  return Run<unsigned long>(
      info, "virConnectGetVersion",
      [](virConnectPtr c, unsigned long& v, LvError& err) {
        if (virConnectGetVersion(c, &v) == 0) return true;
        err.Capture("virConnectGetVersion", c);
        return false;
      },
      [](Napi::Env env, unsigned long& v) -> Napi::Value { return Napi::Number::New(env, double(v)); });
}

// String-returning connection calls share one shape.
#define AGENTFLEET_STRING_CALL(CALL, CNAME)                                                \
  Run<std::string>(                                                                        \
      info, CNAME,                                                                         \
      [=](virConnectPtr c, std::string& out, LvError& err) {                               \
        char* s = CALL;                                                                    \
        if (s == nullptr) {                                                                \
          err.Capture(CNAME, c);                                                           \
          return false;                                                                    \
        }                                                                                  \
        out = Take(s);                                                                     \
        return true;                                                                       \
      },                                                                                   \
      [](Napi::Env env, std::string& out) -> Napi::Value { return Napi::String::New(env, out); })

Napi::Value Connection::GetHostname(const Napi::CallbackInfo& info) {
  return AGENTFLEET_STRING_CALL(virConnectGetHostname(c), "virConnectGetHostname");
}

Napi::Value Connection::GetCapabilities(const Napi::CallbackInfo& info) {
  return AGENTFLEET_STRING_CALL(virConnectGetCapabilities(c), "virConnectGetCapabilities");
}

Napi::Value Connection::GetDomainCapabilities(const Napi::CallbackInfo& info) {
  auto emulator = OptString(info[0]);
  auto arch = OptString(info[1]);
  auto machine = OptString(info[2]);
  auto virttype = OptString(info[3]);
  unsigned int flags = Flags(info, 4);
  return AGENTFLEET_STRING_CALL(
      virConnectGetDomainCapabilities(c, CStr(emulator), CStr(arch), CStr(machine), CStr(virttype), flags),
      "virConnectGetDomainCapabilities");
}

#undef AGENTFLEET_STRING_CALL

Napi::Value Connection::GetNodeInfo(const Napi::CallbackInfo& info) {
  return Run<NodeInfo>(
      info, "virNodeGetInfo",
      [](virConnectPtr c, NodeInfo& out, LvError& err) {
        if (virNodeGetInfo(c, &out.info) == 0) return true;
        err.Capture("virNodeGetInfo", c);
        return false;
      },
      [](Napi::Env env, NodeInfo& out) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("model", std::string(out.info.model));
        o.Set("memoryKiB", double(out.info.memory));
        o.Set("cpus", out.info.cpus);
        o.Set("mhz", out.info.mhz);
        o.Set("nodes", out.info.nodes);
        o.Set("sockets", out.info.sockets);
        o.Set("cores", out.info.cores);
        o.Set("threads", out.info.threads);
        return o;
      });
}

Napi::Value Connection::ListAllDomains(const Napi::CallbackInfo& info) {
  unsigned int flags = Flags(info, 0);
  return Run<std::vector<DomainRow>>(
      info, "virConnectListAllDomains",
      [flags](virConnectPtr c, std::vector<DomainRow>& rows, LvError& err) {
        virDomainPtr* doms = nullptr;
        int n = virConnectListAllDomains(c, &doms, flags);
        if (n < 0) {
          err.Capture("virConnectListAllDomains", c);
          return false;
        }
        bool ok = true;
        for (int i = 0; i < n; i++) {
          DomainRow row;
          const char* name = virDomainGetName(doms[i]);
          row.name = name ? name : "";
          char uuid[VIR_UUID_STRING_BUFLEN] = {0};
          virDomainGetUUIDString(doms[i], uuid);
          row.uuid = uuid;
          row.id = static_cast<int>(virDomainGetID(doms[i]));
          int persistent = 0;
          if (ok && virDomainGetState(doms[i], &row.state, &row.reason, 0) < 0) {
            // A domain that vanished between listing and asking is not an error: skip it.
            LvError e;
            e.Capture("virDomainGetState", c);
            if (e.code == VIR_ERR_NO_DOMAIN) continue;
            err = e;
            ok = false;
          } else if (ok && (persistent = virDomainIsPersistent(doms[i])) < 0) {
            LvError e;
            e.Capture("virDomainIsPersistent", c);
            if (e.code == VIR_ERR_NO_DOMAIN) continue;
            err = e;
            ok = false;
          }
          row.persistent = persistent == 1;
          if (ok) rows.push_back(std::move(row));
        }
        for (int i = 0; i < n; i++) virDomainFree(doms[i]);
        free(doms);
        return ok;
      },
      [](Napi::Env env, std::vector<DomainRow>& rows) -> Napi::Value {
        Napi::Array arr = Napi::Array::New(env, rows.size());
        for (size_t i = 0; i < rows.size(); i++) {
          Napi::Object o = Napi::Object::New(env);
          o.Set("name", rows[i].name);
          o.Set("uuid", rows[i].uuid);
          o.Set("id", rows[i].id);
          o.Set("state", rows[i].state);
          o.Set("reason", rows[i].reason);
          o.Set("persistent", rows[i].persistent);
          arr.Set(i, o);
        }
        return arr;
      });
}

template <typename Work>
Napi::Value Connection::LookupDomain(const Napi::CallbackInfo& info, const char* func, Work work) {
  auto state = state_;
  return Run<virDomainPtr>(
      info, func,
      [work, func](virConnectPtr c, virDomainPtr& out, LvError& err) {
        out = work(c);
        if (out == nullptr) err.Capture(func, c);
        return out != nullptr;
      },
      [state](Napi::Env env, virDomainPtr& dom) -> Napi::Value { return Domain::NewInstance(env, dom, state); });
}

Napi::Value Connection::LookupDomainByName(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return LookupDomain(info, "virDomainLookupByName",
                      [name](virConnectPtr c) { return virDomainLookupByName(c, name.c_str()); });
}

Napi::Value Connection::LookupDomainByUUIDString(const Napi::CallbackInfo& info) {
  std::string uuid = info[0].As<Napi::String>().Utf8Value();
  return LookupDomain(info, "virDomainLookupByUUIDString",
                      [uuid](virConnectPtr c) { return virDomainLookupByUUIDString(c, uuid.c_str()); });
}

Napi::Value Connection::DefineDomain(const Napi::CallbackInfo& info) {
  std::string xml = info[0].As<Napi::String>().Utf8Value();
  unsigned int flags = Flags(info, 1);
  return LookupDomain(info, "virDomainDefineXMLFlags",
                      [xml, flags](virConnectPtr c) { return virDomainDefineXMLFlags(c, xml.c_str(), flags); });
}

Napi::Value Connection::CreateDomain(const Napi::CallbackInfo& info) {
  std::string xml = info[0].As<Napi::String>().Utf8Value();
  unsigned int flags = Flags(info, 1);
  return LookupDomain(info, "virDomainCreateXML",
                      [xml, flags](virConnectPtr c) { return virDomainCreateXML(c, xml.c_str(), flags); });
}

Napi::Value Connection::RegisterLifecycleEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto sink = std::make_shared<EventSink>(env, info[0].As<Napi::Function>());
  event_loop::Start(AddonData::Of(env)->usesEventLoop);
  auto state = state_;
  if (state->closed) sink->Shutdown();
  return Run<int>(
      info, "virConnectDomainEventRegisterAny",
      [sink](virConnectPtr c, int& id, LvError& err) {
        auto* holder = new std::shared_ptr<EventSink>(sink);
        id = virConnectDomainEventRegisterAny(c, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                              VIR_DOMAIN_EVENT_CALLBACK(OnLifecycle), holder, FreeSinkHolder);
        if (id >= 0) return true;
        // libvirt may or may not have run FreeSinkHolder on this path, so the holder is left
        // alone (a few bytes, failure path only); the sink itself is shut down in Done.
        err.Capture("virConnectDomainEventRegisterAny", c);
        sink->Shutdown();
        return false;
      },
      [state, sink](Napi::Env env, int& id) -> Napi::Value {
        if (state->closed)
          sink->Shutdown();
        else
          state->sinks[id] = sink;
        return Napi::Number::New(env, id);
      });
}

Napi::Value Connection::DeregisterEvent(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  auto it = state_->sinks.find(id);
  if (it != state_->sinks.end()) {
    it->second->Shutdown();
    state_->sinks.erase(it);
  }
  return Run<bool>(
      info, "virConnectDomainEventDeregisterAny",
      [id](virConnectPtr c, bool&, LvError& err) {
        if (virConnectDomainEventDeregisterAny(c, id) == 0) return true;
        err.Capture("virConnectDomainEventDeregisterAny", c);
        return false;
      },
      [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
}

void CloseAllHandles(Napi::Env env) {
  AddonData* data = AddonData::Of(env);
  for (auto& weak : data->domains)
    if (auto d = weak.lock()) d->Free();
  for (auto& weak : data->connections) {
    if (auto c = weak.lock()) {
      c->closed = true;
      c->EndNow(true);
    }
  }
}

}  // namespace agentfleet
