#include "domain.h"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "addon_data.h"
#include "args.h"
#include "job.h"

namespace agentfleet {

namespace {

struct StateReason {
  int state = 0;
  int reason = 0;
};

Napi::Value Undefined(Napi::Env env, bool&) { return env.Undefined(); }
Napi::Value String(Napi::Env env, std::string& s) { return Napi::String::New(env, s); }

}  // namespace

Napi::Function Domain::Define(Napi::Env env) {
  return DefineClass(env, "Domain",
                     {
                         InstanceMethod<&Domain::GetName>("getName"),
                         InstanceMethod<&Domain::GetUUIDString>("getUUIDString"),
                         InstanceMethod<&Domain::Free>("free"),
                         InstanceMethod<&Domain::Create>("create"),
                         InstanceMethod<&Domain::Shutdown>("shutdown"),
                         InstanceMethod<&Domain::Destroy>("destroy"),
                         InstanceMethod<&Domain::Reboot>("reboot"),
                         InstanceMethod<&Domain::Suspend>("suspend"),
                         InstanceMethod<&Domain::Resume>("resume"),
                         InstanceMethod<&Domain::Undefine>("undefine"),
                         InstanceMethod<&Domain::GetInfo>("getInfo"),
                         InstanceMethod<&Domain::GetState>("getState"),
                         InstanceMethod<&Domain::GetXMLDesc>("getXMLDesc"),
                         InstanceMethod<&Domain::IsActive>("isActive"),
                         InstanceMethod<&Domain::IsPersistent>("isPersistent"),
                         InstanceMethod<&Domain::GetAutostart>("getAutostart"),
                         InstanceMethod<&Domain::SetAutostart>("setAutostart"),
                         InstanceMethod<&Domain::GetMetadata>("getMetadata"),
                         InstanceMethod<&Domain::SetMetadata>("setMetadata"),
                         InstanceMethod<&Domain::SnapshotCreate>("snapshotCreate"),
                         InstanceMethod<&Domain::SnapshotList>("snapshotList"),
                         InstanceMethod<&Domain::SnapshotGetXMLDesc>("snapshotGetXMLDesc"),
                         InstanceMethod<&Domain::SnapshotRevert>("snapshotRevert"),
                         InstanceMethod<&Domain::SnapshotDelete>("snapshotDelete"),
                         InstanceMethod<&Domain::QemuMonitorCommand>("qemuMonitorCommand"),
                     });
}

Napi::Object Domain::NewInstance(Napi::Env env, virDomainPtr dom, std::shared_ptr<ConnState> conn) {
  AddonData* data = AddonData::Of(env);
  auto handle = std::make_shared<DomainHandle>(dom, std::move(conn));
  AddonData::Track(data->domains, handle);
  return data->domainCtor.New({Napi::External<std::shared_ptr<DomainHandle>>::New(env, &handle)});
}

Domain::Domain(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Domain>(info) {
  if (info.Length() != 1 || !info[0].IsExternal())
    throw Napi::TypeError::New(info.Env(), "Domain is created by a Connection lookup");
  handle_ = *info[0].As<Napi::External<std::shared_ptr<DomainHandle>>>().Data();
}

// The live pointer, or a JS exception naming why the handle may not be used.
virDomainPtr Domain::Checked(Napi::Env env, const char* func) {
  if (handle_->conn->closed)
    throw Napi::Error(env, LvError::Binding(VIR_ERR_INVALID_CONN, func, "connection is closed").ToJs(env));
  virDomainPtr dom = handle_->dom.load();
  if (dom == nullptr)
    throw Napi::Error(env, LvError::Binding(VIR_ERR_INVALID_DOMAIN, func, "domain handle is freed").ToJs(env));
  return dom;
}

template <typename T, typename Work, typename Done>
Napi::Value Domain::Run(const Napi::CallbackInfo& info, const char* func, Work work, Done done) {
  Napi::Env env = info.Env();
  virDomainPtr dom;
  try {
    dom = Checked(env, func);
  } catch (const Napi::Error& e) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(e.Value());
    return deferred.Promise();
  }
  auto ref = std::make_shared<DomRef>(dom, handle_->conn->conn);
  return Job<T>::Run(
      env,
      [ref, work, func](T& out, LvError& err) {
        if (work(ref->dom, out, err)) return true;
        // Right after the failing call, on the same thread: the error is thread-local. Work
        // that must free objects after a failure captures the error itself first.
        if (err.func.empty()) err.Capture(func, ref->conn);
        return false;
      },
      done);
}

template <typename Call>
Napi::Value Domain::RunVoid(const Napi::CallbackInfo& info, const char* func, Call call) {
  return Run<bool>(
      info, func, [call](virDomainPtr d, bool&, LvError& err) { return call(d) >= 0; }, Undefined);
}

template <typename Call>
Napi::Value Domain::RunString(const Napi::CallbackInfo& info, const char* func, Call call) {
  return Run<std::string>(
      info, func,
      [call](virDomainPtr d, std::string& out, LvError& err) {
        char* s = call(d);
        if (s == nullptr) return false;
        out = Take(s);
        return true;
      },
      String);
}

Napi::Value Domain::GetName(const Napi::CallbackInfo& info) {
  const char* name = virDomainGetName(Checked(info.Env(), "virDomainGetName"));
  return Napi::String::New(info.Env(), name ? name : "");
}

Napi::Value Domain::GetUUIDString(const Napi::CallbackInfo& info) {
  char uuid[VIR_UUID_STRING_BUFLEN] = {0};
  virDomainGetUUIDString(Checked(info.Env(), "virDomainGetUUIDString"), uuid);
  return Napi::String::New(info.Env(), uuid);
}

// Idempotent; later use of this handle is a clear error.
Napi::Value Domain::Free(const Napi::CallbackInfo& info) {
  handle_->Free();
  return info.Env().Undefined();
}

Napi::Value Domain::Create(const Napi::CallbackInfo& info) {
  unsigned int flags = Flags(info, 0);
  return RunVoid(info, "virDomainCreateWithFlags",
                 [flags](virDomainPtr d) { return virDomainCreateWithFlags(d, flags); });
}

Napi::Value Domain::Shutdown(const Napi::CallbackInfo& info) {
  unsigned int flags = Flags(info, 0);
  return RunVoid(info, "virDomainShutdownFlags",
                 [flags](virDomainPtr d) { return virDomainShutdownFlags(d, flags); });
}

Napi::Value Domain::Destroy(const Napi::CallbackInfo& info) {
  unsigned int flags = Flags(info, 0);
  return RunVoid(info, "virDomainDestroyFlags",
                 [flags](virDomainPtr d) { return virDomainDestroyFlags(d, flags); });
}

Napi::Value Domain::Reboot(const Napi::CallbackInfo& info) {
  unsigned int flags = Flags(info, 0);
  return RunVoid(info, "virDomainReboot", [flags](virDomainPtr d) { return virDomainReboot(d, flags); });
}

Napi::Value Domain::Suspend(const Napi::CallbackInfo& info) {
  return RunVoid(info, "virDomainSuspend", [](virDomainPtr d) { return virDomainSuspend(d); });
}

Napi::Value Domain::Resume(const Napi::CallbackInfo& info) {
  return RunVoid(info, "virDomainResume", [](virDomainPtr d) { return virDomainResume(d); });
}

Napi::Value Domain::Undefine(const Napi::CallbackInfo& info) {
  unsigned int flags = Flags(info, 0);
  return RunVoid(info, "virDomainUndefineFlags",
                 [flags](virDomainPtr d) { return virDomainUndefineFlags(d, flags); });
}

Napi::Value Domain::GetInfo(const Napi::CallbackInfo& info) {
  return Run<virDomainInfo>(
      info, "virDomainGetInfo", [](virDomainPtr d, virDomainInfo& out, LvError& err) { return virDomainGetInfo(d, &out) == 0; },
      [](Napi::Env env, virDomainInfo& i) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("state", int(i.state));
        o.Set("maxMemKiB", double(i.maxMem));
        o.Set("memoryKiB", double(i.memory));
        o.Set("nrVirtCpu", int(i.nrVirtCpu));
        o.Set("cpuTimeNs", double(i.cpuTime));
        return o;
      });
}

Napi::Value Domain::GetState(const Napi::CallbackInfo& info) {
  return Run<StateReason>(
      info, "virDomainGetState",
      [](virDomainPtr d, StateReason& out, LvError& err) { return virDomainGetState(d, &out.state, &out.reason, 0) == 0; },
      [](Napi::Env env, StateReason& s) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("state", s.state);
        o.Set("reason", s.reason);
        return o;
      });
}

Napi::Value Domain::GetXMLDesc(const Napi::CallbackInfo& info) {
  unsigned int flags = Flags(info, 0);
  return RunString(info, "virDomainGetXMLDesc", [flags](virDomainPtr d) { return virDomainGetXMLDesc(d, flags); });
}

Napi::Value Domain::IsActive(const Napi::CallbackInfo& info) {
  return Run<int>(
      info, "virDomainIsActive",
      [](virDomainPtr d, int& out, LvError& err) { return (out = virDomainIsActive(d)) >= 0; },
      [](Napi::Env env, int& v) -> Napi::Value { return Napi::Boolean::New(env, v == 1); });
}

Napi::Value Domain::IsPersistent(const Napi::CallbackInfo& info) {
  return Run<int>(
      info, "virDomainIsPersistent",
      [](virDomainPtr d, int& out, LvError& err) { return (out = virDomainIsPersistent(d)) >= 0; },
      [](Napi::Env env, int& v) -> Napi::Value { return Napi::Boolean::New(env, v == 1); });
}

Napi::Value Domain::GetAutostart(const Napi::CallbackInfo& info) {
  return Run<int>(
      info, "virDomainGetAutostart",
      [](virDomainPtr d, int& out, LvError& err) { return virDomainGetAutostart(d, &out) == 0; },
      [](Napi::Env env, int& v) -> Napi::Value { return Napi::Boolean::New(env, v != 0); });
}

// setAutostart(on): libvirt starts a persistent domain when its daemon starts.
Napi::Value Domain::SetAutostart(const Napi::CallbackInfo& info) {
  int on = info[0].As<Napi::Boolean>().Value() ? 1 : 0;
  return RunVoid(info, "virDomainSetAutostart", [on](virDomainPtr d) { return virDomainSetAutostart(d, on); });
}

// getMetadata(type, uri|null, flags): element metadata is selected by namespace URI.
Napi::Value Domain::GetMetadata(const Napi::CallbackInfo& info) {
  int type = info[0].As<Napi::Number>().Int32Value();
  auto uri = OptString(info[1]);
  unsigned int flags = Flags(info, 2);
  return RunString(info, "virDomainGetMetadata", [type, uri, flags](virDomainPtr d) {
    return virDomainGetMetadata(d, type, CStr(uri), flags);
  });
}

// setMetadata(type, metadata|null, key|null, uri|null, flags); null metadata removes it.
Napi::Value Domain::SetMetadata(const Napi::CallbackInfo& info) {
  int type = info[0].As<Napi::Number>().Int32Value();
  auto metadata = OptString(info[1]);
  auto key = OptString(info[2]);
  auto uri = OptString(info[3]);
  unsigned int flags = Flags(info, 4);
  return RunVoid(info, "virDomainSetMetadata", [=](virDomainPtr d) {
    return virDomainSetMetadata(d, type, CStr(metadata), CStr(key), CStr(uri), flags);
  });
}

Napi::Value Domain::SnapshotCreate(const Napi::CallbackInfo& info) {
  std::string xml = Str(info, 0);
  unsigned int flags = Flags(info, 1);
  return Run<std::string>(
      info, "virDomainSnapshotCreateXML",
      [xml, flags](virDomainPtr d, std::string& name, LvError& err) {
        virDomainSnapshotPtr snap = virDomainSnapshotCreateXML(d, xml.c_str(), flags);
        if (snap == nullptr) return false;
        const char* n = virDomainSnapshotGetName(snap);
        name = n ? n : "";
        virDomainSnapshotFree(snap);
        return true;
      },
      String);
}

Napi::Value Domain::SnapshotList(const Napi::CallbackInfo& info) {
  unsigned int flags = Flags(info, 0);
  return Run<std::vector<std::string>>(
      info, "virDomainListAllSnapshots",
      [flags](virDomainPtr d, std::vector<std::string>& names, LvError& err) {
        virDomainSnapshotPtr* snaps = nullptr;
        int n = virDomainListAllSnapshots(d, &snaps, flags);
        if (n < 0) return false;
        for (int i = 0; i < n; i++) {
          const char* name = virDomainSnapshotGetName(snaps[i]);
          names.emplace_back(name ? name : "");
          virDomainSnapshotFree(snaps[i]);
        }
        free(snaps);
        return true;
      },
      [](Napi::Env env, std::vector<std::string>& names) -> Napi::Value {
        Napi::Array arr = Napi::Array::New(env, names.size());
        for (size_t i = 0; i < names.size(); i++) arr.Set(i, names[i]);
        return arr;
      });
}

// Snapshot operations by name. The error is captured before virDomainSnapshotFree, which
// resets the thread's last error.
template <typename Op>
static bool WithSnapshot(virDomainPtr d, const std::string& name, LvError& err, const char* func, Op op) {
  virDomainSnapshotPtr snap = virDomainSnapshotLookupByName(d, name.c_str(), 0);
  if (snap == nullptr) {
    err.Capture("virDomainSnapshotLookupByName");
    return false;
  }
  bool ok = op(snap);
  if (!ok) err.Capture(func);
  virDomainSnapshotFree(snap);
  return ok;
}

Napi::Value Domain::SnapshotGetXMLDesc(const Napi::CallbackInfo& info) {
  std::string name = Str(info, 0);
  unsigned int flags = Flags(info, 1);
  return Run<std::string>(
      info, "virDomainSnapshotGetXMLDesc",
      [name, flags](virDomainPtr d, std::string& out, LvError& err) {
        return WithSnapshot(d, name, err, "virDomainSnapshotGetXMLDesc", [&](virDomainSnapshotPtr s) {
          char* xml = virDomainSnapshotGetXMLDesc(s, flags);
          if (xml == nullptr) return false;
          out = Take(xml);
          return true;
        });
      },
      String);
}

Napi::Value Domain::SnapshotRevert(const Napi::CallbackInfo& info) {
  std::string name = Str(info, 0);
  unsigned int flags = Flags(info, 1);
  return Run<bool>(
      info, "virDomainRevertToSnapshot",
      [name, flags](virDomainPtr d, bool&, LvError& err) {
        return WithSnapshot(d, name, err, "virDomainRevertToSnapshot", [&](virDomainSnapshotPtr s) { return virDomainRevertToSnapshot(s, flags) == 0; });
      },
      Undefined);
}

Napi::Value Domain::SnapshotDelete(const Napi::CallbackInfo& info) {
  std::string name = Str(info, 0);
  unsigned int flags = Flags(info, 1);
  return Run<bool>(
      info, "virDomainSnapshotDelete",
      [name, flags](virDomainPtr d, bool&, LvError& err) {
        return WithSnapshot(d, name, err, "virDomainSnapshotDelete", [&](virDomainSnapshotPtr s) { return virDomainSnapshotDelete(s, flags) == 0; });
      },
      Undefined);
}

Napi::Value Domain::QemuMonitorCommand(const Napi::CallbackInfo& info) {
  std::string cmd = Str(info, 0);
  unsigned int flags = Flags(info, 1);
  return Run<std::string>(
      info, "virDomainQemuMonitorCommand",
      [cmd, flags](virDomainPtr d, std::string& out, LvError& err) {
        char* result = nullptr;
        if (virDomainQemuMonitorCommand(d, cmd.c_str(), &result, flags) < 0) return false;
        out = Take(result);
        return true;
      },
      String);
}

}  // namespace agentfleet
