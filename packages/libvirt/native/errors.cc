#include "errors.h"

#include "addon_data.h"

namespace agentfleet {

void LvError::Capture(const char* cFunc, virConnectPtr conn) {
  func = cFunc;
  virError err{};
  if (virCopyLastError(&err) > 0) {
    code = err.code;
    domain = err.domain;
    level = err.level;
    message = err.message ? err.message : "unknown libvirt error";
    virResetError(&err);
  } else {
    code = VIR_ERR_INTERNAL_ERROR;
    message = std::string(cFunc) + " failed without a libvirt error";
  }
  // After the error is copied: virConnectIsAlive resets the thread's last error.
  if (conn != nullptr && virConnectIsAlive(conn) == 0) connectionLost = true;
}

LvError LvError::Binding(int code, const char* cFunc, std::string message) {
  LvError e;
  e.code = code;
  e.func = cFunc;
  e.message = std::move(message);
  e.fromBinding = true;
  return e;
}

Napi::Value LvError::ToJs(Napi::Env env) const {
  AddonData* data = AddonData::Of(env);
  if (data->errorFactory.IsEmpty()) return Napi::Error::New(env, message).Value();
  Napi::Object info = Napi::Object::New(env);
  info.Set("code", code);
  info.Set("domain", domain);
  info.Set("level", level);
  info.Set("message", message);
  info.Set("func", func);
  info.Set("connectionLost", connectionLost);
  info.Set("fromBinding", fromBinding);
  return data->errorFactory.Call({info});
}

void SetErrorFactory(Napi::Env env, Napi::Function factory) {
  AddonData::Of(env)->errorFactory = Napi::Persistent(factory);
}

}  // namespace agentfleet
