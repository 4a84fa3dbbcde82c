// virConnectGetAllDomainStats: one daemon round trip for every domain's counters (CPU time,
// balloon, block allocation, ...), what `fleet status` and `--watch` sample. Typed parameters are
// copied to plain C++ data on the pool thread and converted to JS on the main thread.
#include <libvirt/virterror.h>

#include <string>
#include <variant>
#include <vector>

#include "args.h"
#include "connection.h"
#include "job.h"

namespace agentfleet {

namespace {

using ParamValue = std::variant<double, bool, std::string>;

struct StatsRecord {
  std::string name;
  std::string uuid;
  std::vector<std::pair<std::string, ParamValue>> params;
};

ParamValue ValueOf(const virTypedParameter& p) {
  switch (p.type) {
    case VIR_TYPED_PARAM_INT:
      return double(p.value.i);
    case VIR_TYPED_PARAM_UINT:
      return double(p.value.ui);
    case VIR_TYPED_PARAM_LLONG:
      return double(p.value.l);
    case VIR_TYPED_PARAM_ULLONG:
      // Counters (ns of CPU time, bytes) stay exact below 2^53: 104 days of CPU, 8 PiB.
      return double(p.value.ul);
    case VIR_TYPED_PARAM_DOUBLE:
      return p.value.d;
    case VIR_TYPED_PARAM_BOOLEAN:
      return p.value.b != 0;
    default:
      return std::string(p.value.s ? p.value.s : "");
  }
}

}  // namespace

// getAllDomainStats(stats, flags): [{name, uuid, params: {"cpu.time": n, ...}}].
Napi::Value Connection::GetAllDomainStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* func = "virConnectGetAllDomainStats";
  unsigned int stats = Flags(info, 0);
  unsigned int flags = Flags(info, 1);
  if (state_->closed) return Rejected(env, LvError::Binding(VIR_ERR_INVALID_CONN, func, "connection is closed"));
  auto ref = std::make_shared<ConnRef>(state_->conn);
  return Job<std::vector<StatsRecord>>::Run(
      env,
      [ref, stats, flags, func](std::vector<StatsRecord>& out, LvError& err) {
        virDomainStatsRecordPtr* records = nullptr;
        int n = virConnectGetAllDomainStats(ref->conn, stats, &records, flags);
        if (n < 0) {
          err.Capture(func, ref->conn);
          return false;
        }
        for (int i = 0; i < n; i++) {
          StatsRecord rec;
          const char* name = virDomainGetName(records[i]->dom);
          rec.name = name ? name : "";
          char uuid[VIR_UUID_STRING_BUFLEN] = {0};
          virDomainGetUUIDString(records[i]->dom, uuid);
          rec.uuid = uuid;
          for (int j = 0; j < records[i]->nparams; j++) {
            const virTypedParameter& p = records[i]->params[j];
            rec.params.emplace_back(p.field, ValueOf(p));
          }
          out.push_back(std::move(rec));
        }
        virDomainStatsRecordListFree(records);
        return true;
      },
      [](Napi::Env env, std::vector<StatsRecord>& recs) -> Napi::Value {
        Napi::Array arr = Napi::Array::New(env, recs.size());
        for (size_t i = 0; i < recs.size(); i++) {
          Napi::Object o = Napi::Object::New(env);
          o.Set("name", recs[i].name);
          o.Set("uuid", recs[i].uuid);
          Napi::Object params = Napi::Object::New(env);
          for (auto& [key, value] : recs[i].params) {
            if (auto* d = std::get_if<double>(&value))
              params.Set(key, Napi::Number::New(env, *d));
            else if (auto* b = std::get_if<bool>(&value))
              params.Set(key, Napi::Boolean::New(env, *b));
            else
              params.Set(key, Napi::String::New(env, std::get<std::string>(value)));
          }
          o.Set("params", params);
          arr.Set(i, o);
        }
        return arr;
      });
}

}  // namespace agentfleet
