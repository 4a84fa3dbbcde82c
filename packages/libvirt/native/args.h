// Argument and result conversions shared by the JS classes. The TS layer has validated types.
#pragma once
#include <napi.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace agentfleet {

// A libvirt-allocated string as std::string; frees it.
inline std::string Take(char* s) {
  std::string out = s ? s : "";
  free(s);
  return out;
}

inline std::string Str(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::String>().Utf8Value(); }

// A string argument, or nullopt for null/undefined (libvirt's NULL).
inline std::optional<std::string> OptString(const Napi::Value& v) {
  if (v.IsString()) return v.As<Napi::String>().Utf8Value();
  return std::nullopt;
}

inline const char* CStr(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

// A flags argument; absent means 0.
inline unsigned int Flags(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Uint32Value() : 0;
}

}  // namespace agentfleet
