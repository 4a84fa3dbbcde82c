// JS class wrapping one virDomainPtr. Name and UUID are read from the handle (no daemon round
// trip); everything else is a Promise run on the libvirt pool.
#pragma once
#include <libvirt/libvirt.h>
#include <napi.h>

#include <memory>

#include "handles.h"

namespace agentfleet {

class Domain : public Napi::ObjectWrap<Domain> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Takes ownership of `dom`.
  static Napi::Object NewInstance(Napi::Env env, virDomainPtr dom, std::shared_ptr<ConnState> conn);

  explicit Domain(const Napi::CallbackInfo& info);

 private:
  template <typename T, typename Work, typename Done>
  Napi::Value Run(const Napi::CallbackInfo& info, const char* func, Work work, Done done);
  template <typename Call>
  Napi::Value RunVoid(const Napi::CallbackInfo& info, const char* func, Call call);
  template <typename Call>
  Napi::Value RunString(const Napi::CallbackInfo& info, const char* func, Call call);
  virDomainPtr Checked(Napi::Env env, const char* func);

  Napi::Value GetName(const Napi::CallbackInfo& info);
  Napi::Value GetUUIDString(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);
  Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value Reboot(const Napi::CallbackInfo& info);
  Napi::Value Suspend(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value Undefine(const Napi::CallbackInfo& info);
  Napi::Value GetInfo(const Napi::CallbackInfo& info);
  Napi::Value GetState(const Napi::CallbackInfo& info);
  Napi::Value GetXMLDesc(const Napi::CallbackInfo& info);
  Napi::Value IsActive(const Napi::CallbackInfo& info);
  Napi::Value IsPersistent(const Napi::CallbackInfo& info);
  Napi::Value GetAutostart(const Napi::CallbackInfo& info);
  Napi::Value SetAutostart(const Napi::CallbackInfo& info);
  Napi::Value GetMetadata(const Napi::CallbackInfo& info);
  Napi::Value SetMetadata(const Napi::CallbackInfo& info);
  Napi::Value SnapshotCreate(const Napi::CallbackInfo& info);
  Napi::Value SnapshotList(const Napi::CallbackInfo& info);
  Napi::Value SnapshotGetXMLDesc(const Napi::CallbackInfo& info);
  Napi::Value SnapshotRevert(const Napi::CallbackInfo& info);
  Napi::Value SnapshotDelete(const Napi::CallbackInfo& info);
  Napi::Value QemuMonitorCommand(const Napi::CallbackInfo& info);

  std::shared_ptr<DomainHandle> handle_;
};

}  // namespace agentfleet
