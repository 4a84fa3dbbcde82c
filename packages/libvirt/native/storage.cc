// Storage pools and volumes, addressed by name on the connection: every call looks its objects
// up on the worker and frees them there, so no pool or volume handle outlives a call (nothing new
// for close() or the GC to track). Uploads stream a local file into a volume (virStreamSend).
#include <fcntl.h>
#include <libvirt/virterror.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "connection.h"
#include "job.h"

namespace agentfleet {

namespace {

struct PoolInfo {
  std::string xml;
  int state = 0;
  double capacity = 0;
  double allocation = 0;
  double available = 0;
  bool active = false;
  bool persistent = false;
  bool autostart = false;
};

struct VolInfo {
  std::string name;
  std::string path;
  std::string key;
  std::string xml;
  int type = 0;
  double capacity = 0;
  double allocation = 0;
};

Napi::Value Undefined(Napi::Env env, bool&) { return env.Undefined(); }

// Runs `op` on the named pool; the error is captured before the pool is freed (which resets it).
template <typename Op>
bool WithPool(virConnectPtr c, const std::string& pool, LvError& err, const char* func, Op op) {
  virStoragePoolPtr p = virStoragePoolLookupByName(c, pool.c_str());
  if (p == nullptr) {
    err.Capture("virStoragePoolLookupByName", c);
    return false;
  }
  bool ok = op(p);
  if (!ok && err.func.empty()) err.Capture(func, c);
  virStoragePoolFree(p);
  return ok;
}

template <typename Op>
bool WithVol(virConnectPtr c, const std::string& pool, const std::string& vol, LvError& err, const char* func, Op op) {
  return WithPool(c, pool, err, func, [&](virStoragePoolPtr p) {
    virStorageVolPtr v = virStorageVolLookupByName(p, vol.c_str());
    if (v == nullptr) {
      err.Capture("virStorageVolLookupByName", c);
      return false;
    }
    bool ok = op(v);
    if (!ok && err.func.empty()) err.Capture(func, c);
    virStorageVolFree(v);
    return ok;
  });
}

// Name, path, key, info and XML of a volume; false (error uncaptured) if a call fails.
bool Describe(virStorageVolPtr v, VolInfo& out) {
  const char* name = virStorageVolGetName(v);
  const char* key = virStorageVolGetKey(v);
  out.name = name ? name : "";
  out.key = key ? key : "";
  char* path = virStorageVolGetPath(v);
  if (path == nullptr) return false;
  out.path = Take(path);
  virStorageVolInfo info{};
  if (virStorageVolGetInfo(v, &info) < 0) return false;
  out.type = info.type;
  out.capacity = double(info.capacity);
  out.allocation = double(info.allocation);
  char* xml = virStorageVolGetXMLDesc(v, 0);
  if (xml == nullptr) return false;
  out.xml = Take(xml);
  return true;
}

Napi::Value VolToJs(Napi::Env env, VolInfo& v) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", v.name);
  o.Set("path", v.path);
  o.Set("key", v.key);
  o.Set("type", v.type);
  o.Set("capacity", v.capacity);
  o.Set("allocation", v.allocation);
  o.Set("xml", v.xml);
  return o;
}

// Progress of an upload on the main thread: the bytes sent so far.
void CallProgress(Napi::Env env, Napi::Function fn, uint64_t* sent) {
  if (env != nullptr && fn != nullptr) fn.Call({Napi::Number::New(env, double(*sent))});
  delete sent;
}

// libvirt's stream messages are sized for 256 KiB payloads (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX): 1 MiB reads made
// uploads 1.6x slower than `virsh vol-upload`, 256 KiB matched it (bench/upload.mjs).
constexpr size_t kChunk = 256 << 10;
// A progress call per this many bytes (and one at the end): cheap next to the transfer.
constexpr uint64_t kProgressEvery = 8 << 20;

// Sends `fd` from its current position to the end (at most `length` bytes) into `st`.
bool SendFile(virConnectPtr c, virStreamPtr st, int fd, uint64_t length, uint64_t& sent, LvError& err,
              const std::function<void(uint64_t)>& progress) {
  std::vector<char> buf(kChunk);
  uint64_t reported = 0;
  while (sent < length) {
    ssize_t n = read(fd, buf.data(), std::min<uint64_t>(buf.size(), length - sent));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = LvError::Binding(VIR_ERR_SYSTEM_ERROR, "read",
                             n < 0 ? std::string("reading the upload source: ") + std::strerror(errno)
                                   : "the upload source ended before the length given");
      err.fromBinding = false;
      return false;
    }
    for (ssize_t off = 0; off < n;) {
      int r = virStreamSend(st, buf.data() + off, size_t(n - off));
      if (r < 0) {
        err.Capture("virStreamSend", c);
        return false;
      }
      off += r;
    }
    sent += uint64_t(n);
    if (sent - reported >= kProgressEvery || sent == length) {
      progress(sent);
      reported = sent;
    }
  }
  return true;
}

}  // namespace

// storagePoolInfo(name): state, sizes, flags and XML; rejects with VIR_ERR_NO_STORAGE_POOL.
Napi::Value Connection::StoragePoolInfo(const Napi::CallbackInfo& info) {
  std::string name = Str(info, 0);
  return Run<PoolInfo>(
      info, "virStoragePoolGetInfo",
      [name](virConnectPtr c, PoolInfo& out, LvError& err) {
        return WithPool(c, name, err, "virStoragePoolGetInfo", [&](virStoragePoolPtr p) {
          virStoragePoolInfo i{};
          if (virStoragePoolGetInfo(p, &i) < 0) return false;
          out.state = i.state;
          out.capacity = double(i.capacity);
          out.allocation = double(i.allocation);
          out.available = double(i.available);
          int active = virStoragePoolIsActive(p);
          int persistent = virStoragePoolIsPersistent(p);
          int autostart = 0;
          if (active < 0 || persistent < 0 || virStoragePoolGetAutostart(p, &autostart) < 0) return false;
          out.active = active == 1;
          out.persistent = persistent == 1;
          out.autostart = autostart != 0;
          char* xml = virStoragePoolGetXMLDesc(p, 0);
          if (xml == nullptr) return false;
          out.xml = Take(xml);
          return true;
        });
      },
      [](Napi::Env env, PoolInfo& p) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("state", p.state);
        o.Set("capacity", p.capacity);
        o.Set("allocation", p.allocation);
        o.Set("available", p.available);
        o.Set("active", p.active);
        o.Set("persistent", p.persistent);
        o.Set("autostart", p.autostart);
        o.Set("xml", p.xml);
        return o;
      });
}

// storagePoolDefine(xml, flags): the pool's name.
Napi::Value Connection::StoragePoolDefine(const Napi::CallbackInfo& info) {
  std::string xml = Str(info, 0);
  unsigned int flags = Flags(info, 1);
  return Run<std::string>(
      info, "virStoragePoolDefineXML",
      [xml, flags](virConnectPtr c, std::string& out, LvError& err) {
        virStoragePoolPtr p = virStoragePoolDefineXML(c, xml.c_str(), flags);
        if (p == nullptr) {
          err.Capture("virStoragePoolDefineXML", c);
          return false;
        }
        const char* name = virStoragePoolGetName(p);
        out = name ? name : "";
        virStoragePoolFree(p);
        return true;
      },
      [](Napi::Env env, std::string& s) -> Napi::Value { return Napi::String::New(env, s); });
}

// Pool lifecycle calls that take (pool, flags) and return an int status share one shape.
#define AGENTFLEET_POOL_CALL(METHOD, CALL, CNAME)                                                       \
  Napi::Value Connection::METHOD(const Napi::CallbackInfo& info) {                                      \
    std::string name = Str(info, 0);                                                                    \
    unsigned int flags = Flags(info, 1);                                                                \
    return Run<bool>(                                                                                   \
        info, CNAME,                                                                                    \
        [name, flags](virConnectPtr c, bool&, LvError& err) {                                           \
          return WithPool(c, name, err, CNAME, [&](virStoragePoolPtr p) { return CALL(p, flags) >= 0; }); \
        },                                                                                              \
        Undefined);                                                                                     \
  }

AGENTFLEET_POOL_CALL(StoragePoolBuild, virStoragePoolBuild, "virStoragePoolBuild")
AGENTFLEET_POOL_CALL(StoragePoolCreate, virStoragePoolCreate, "virStoragePoolCreate")
AGENTFLEET_POOL_CALL(StoragePoolRefresh, virStoragePoolRefresh, "virStoragePoolRefresh")
AGENTFLEET_POOL_CALL(StoragePoolSetAutostart, virStoragePoolSetAutostart, "virStoragePoolSetAutostart")

#undef AGENTFLEET_POOL_CALL

Napi::Value Connection::StoragePoolDestroy(const Napi::CallbackInfo& info) {
  std::string name = Str(info, 0);
  return Run<bool>(
      info, "virStoragePoolDestroy",
      [name](virConnectPtr c, bool&, LvError& err) {
        return WithPool(c, name, err, "virStoragePoolDestroy", [](virStoragePoolPtr p) { return virStoragePoolDestroy(p) >= 0; });
      },
      Undefined);
}

Napi::Value Connection::StoragePoolUndefine(const Napi::CallbackInfo& info) {
  std::string name = Str(info, 0);
  return Run<bool>(
      info, "virStoragePoolUndefine",
      [name](virConnectPtr c, bool&, LvError& err) {
        return WithPool(c, name, err, "virStoragePoolUndefine", [](virStoragePoolPtr p) { return virStoragePoolUndefine(p) >= 0; });
      },
      Undefined);
}

// storageVolList(pool): the names of its volumes.
Napi::Value Connection::StorageVolList(const Napi::CallbackInfo& info) {
  std::string pool = Str(info, 0);
  return Run<std::vector<std::string>>(
      info, "virStoragePoolListAllVolumes",
      [pool](virConnectPtr c, std::vector<std::string>& names, LvError& err) {
        return WithPool(c, pool, err, "virStoragePoolListAllVolumes", [&](virStoragePoolPtr p) {
          virStorageVolPtr* vols = nullptr;
          int n = virStoragePoolListAllVolumes(p, &vols, 0);
          if (n < 0) return false;
          for (int i = 0; i < n; i++) {
            const char* name = virStorageVolGetName(vols[i]);
            names.emplace_back(name ? name : "");
            virStorageVolFree(vols[i]);
          }
          free(vols);
          return true;
        });
      },
      [](Napi::Env env, std::vector<std::string>& names) -> Napi::Value {
        Napi::Array arr = Napi::Array::New(env, names.size());
        for (size_t i = 0; i < names.size(); i++) arr.Set(i, names[i]);
        return arr;
      });
}

// storageVolInfo(pool, name); rejects with VIR_ERR_NO_STORAGE_VOL.
Napi::Value Connection::StorageVolInfo(const Napi::CallbackInfo& info) {
  std::string pool = Str(info, 0);
  std::string vol = Str(info, 1);
  return Run<VolInfo>(
      info, "virStorageVolGetInfo",
      [pool, vol](virConnectPtr c, VolInfo& out, LvError& err) {
        return WithVol(c, pool, vol, err, "virStorageVolGetInfo", [&](virStorageVolPtr v) { return Describe(v, out); });
      },
      VolToJs);
}

// storageVolCreate(pool, xml, cloneFrom|null, flags): virStorageVolCreateXML, or
// virStorageVolCreateXMLFrom when cloneFrom names a volume of the same pool. libvirt refuses a
// name that exists (VIR_ERR_STORAGE_VOL_EXIST): a volume is never overwritten.
Napi::Value Connection::StorageVolCreate(const Napi::CallbackInfo& info) {
  std::string pool = Str(info, 0);
  std::string xml = Str(info, 1);
  auto from = OptString(info[2]);
  unsigned int flags = Flags(info, 3);
  const char* func = from ? "virStorageVolCreateXMLFrom" : "virStorageVolCreateXML";
  return Run<VolInfo>(
      info, func,
      [pool, xml, from, flags, func](virConnectPtr c, VolInfo& out, LvError& err) {
        return WithPool(c, pool, err, func, [&](virStoragePoolPtr p) {
          virStorageVolPtr src = nullptr;
          if (from) {
            src = virStorageVolLookupByName(p, from->c_str());
            if (src == nullptr) {
              err.Capture("virStorageVolLookupByName", c);
              return false;
            }
          }
          virStorageVolPtr v = from ? virStorageVolCreateXMLFrom(p, xml.c_str(), src, flags)
                                    : virStorageVolCreateXML(p, xml.c_str(), flags);
          bool ok = v != nullptr && Describe(v, out);
          if (!ok) err.Capture(func, c);
          if (v) virStorageVolFree(v);
          if (src) virStorageVolFree(src);
          return ok;
        });
      },
      VolToJs);
}

// storageVolDelete(pool, name, flags).
Napi::Value Connection::StorageVolDelete(const Napi::CallbackInfo& info) {
  std::string pool = Str(info, 0);
  std::string vol = Str(info, 1);
  unsigned int flags = Flags(info, 2);
  return Run<bool>(
      info, "virStorageVolDelete",
      [pool, vol, flags](virConnectPtr c, bool&, LvError& err) {
        return WithVol(c, pool, vol, err, "virStorageVolDelete", [&](virStorageVolPtr v) { return virStorageVolDelete(v, flags) >= 0; });
      },
      Undefined);
}

// storageVolUpload(pool, name, file, length, onProgress|null): virStorageVolUpload from offset 0
// through a blocking virStream fed from `file` on the worker; resolves with the bytes sent.
// onProgress(bytesSent) runs on the main thread every few MiB and once at the end.
Napi::Value Connection::StorageVolUpload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string pool = Str(info, 0);
  std::string vol = Str(info, 1);
  std::string file = Str(info, 2);
  uint64_t length = uint64_t(info[3].As<Napi::Number>().Int64Value());
  std::shared_ptr<Napi::ThreadSafeFunction> tsfn;
  if (info.Length() > 4 && info[4].IsFunction())
    tsfn = std::make_shared<Napi::ThreadSafeFunction>(
        Napi::ThreadSafeFunction::New(env, info[4].As<Napi::Function>(), "agentfleet:upload", 0, 1));
  auto release = [tsfn]() {
    if (tsfn) tsfn->Release();
  };
  if (state_->closed) release();
  return Run<double>(
      info, "virStorageVolUpload",
      [pool, vol, file, length, tsfn, release](virConnectPtr c, double& out, LvError& err) {
        auto progress = [tsfn](uint64_t sent) {
          if (tsfn) tsfn->NonBlockingCall(new uint64_t(sent), CallProgress);
        };
        uint64_t sent = 0;
        bool ok = WithVol(c, pool, vol, err, "virStorageVolUpload", [&](virStorageVolPtr v) {
          int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
          if (fd < 0) {
            err = LvError::Binding(VIR_ERR_SYSTEM_ERROR, "open", "cannot open " + file + ": " + std::strerror(errno));
            err.fromBinding = false;
            return false;
          }
          virStreamPtr st = virStreamNew(c, 0);
          bool done = false;
          if (st == nullptr) {
            err.Capture("virStreamNew", c);
          } else if (virStorageVolUpload(v, st, 0, length, 0) < 0) {
            err.Capture("virStorageVolUpload", c);
          } else if (!SendFile(c, st, fd, length, sent, err, progress)) {
            virStreamAbort(st);
          } else if (virStreamFinish(st) < 0) {
            err.Capture("virStreamFinish", c);
          } else {
            done = true;
          }
          if (st) virStreamFree(st);
          close(fd);
          return done;
        });
        release();
        out = double(sent);
        return ok;
      },
      [](Napi::Env env, double& sent) -> Napi::Value { return Napi::Number::New(env, sent); });
}

}  // namespace agentfleet
