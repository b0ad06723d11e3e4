#include "tests/fuzz/service_fuzzing.h"

#include <utility>

#include "art/protocol/public_group.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/fuzz/fuzz_support.h"

namespace artd::fuzz {

absl::StatusOr<FuzzedService> StartFuzzedService(
    const google::protobuf::RepeatedPtrField<std::string>& tenant_credential_keys, uint64_t now_unix_millis) {
  FuzzedService service;
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(":memory:");
  if (!store.ok()) return store.status();
  service.store = *std::move(store);
  absl::Status created = service.store->CreateTenant(kTenant);
  if (!created.ok()) return created;
  for (const std::string& key : tenant_credential_keys) {
    (void)service.store->AddTenantCredentialKey(kTenant, Bytes(key.begin(), key.end()));
  }
  ServiceConfig config;
  // Small limits keep every input cheap; the limits themselves are part of what is fuzzed.
  config.max_group_size = 64;
  config.max_one_time_prekeys_per_upload = 16;
  config.max_one_time_prekeys_stored = 32;
  config.max_list_limit = 16;
  config.max_message_bytes = 4096;
  config.max_state_blob_bytes = 4096;
  config.watch_poll_interval_millis = 0;
  config.now_unix_millis = [now_unix_millis] { return now_unix_millis; };
  service.core = std::make_unique<ServiceCore>(service.store.get(), std::move(config));
  return service;
}

absl::Status CallService(ServiceCore& core, const ServiceCall& call) {
  switch (call.request_case()) {
    case ServiceCall::kPublishIdentity:
      return core.PublishIdentity(kTenant, call.publish_identity()).status();
    case ServiceCall::kUploadPrekeys:
      return core.UploadPrekeys(kTenant, call.upload_prekeys()).status();
    case ServiceCall::kCountPrekeys:
      return core.CountPrekeys(kTenant, call.count_prekeys()).status();
    case ServiceCall::kFetchPrekeyBundle:
      return core.FetchPrekeyBundle(kTenant, call.fetch_prekey_bundle()).status();
    case ServiceCall::kCreateGroup:
      return core.CreateGroup(kTenant, call.create_group()).status();
    case ServiceCall::kGetSetup:
      return core.GetSetup(kTenant, call.get_setup()).status();
    case ServiceCall::kGetGroup:
      return core.GetGroup(kTenant, call.get_group()).status();
    case ServiceCall::kSubmitCommit:
      return core.SubmitCommit(kTenant, call.submit_commit()).status();
    case ServiceCall::kListCommits:
      return core.ListCommits(kTenant, call.list_commits()).status();
    case ServiceCall::kPostMessage:
      return core.PostMessage(kTenant, call.post_message()).status();
    case ServiceCall::kFetchMessages:
      return core.FetchMessages(kTenant, call.fetch_messages()).status();
    case ServiceCall::kFetchWelcomes:
      return core.FetchWelcomes(kTenant, call.fetch_welcomes()).status();
    case ServiceCall::kAckWelcome:
      return core.AckWelcome(kTenant, call.ack_welcome()).status();
    case ServiceCall::kPutState:
      return core.PutState(kTenant, call.put_state()).status();
    case ServiceCall::kGetState:
      return core.GetState(kTenant, call.get_state()).status();
    case ServiceCall::kReportAlarm:
      return core.ReportAlarm(kTenant, call.report_alarm()).status();
    case ServiceCall::kListAlarms:
      return core.ListAlarms(kTenant, call.list_alarms()).status();
    case ServiceCall::kWatchGroup: {
      // One pass over what is stored, then the stream is cancelled (the poll interval is 0).
      bool passed = false;
      return core.WatchGroup(
          kTenant, call.watch_group(), [](const v1::GroupEvent&) { return true; },
          [&passed] { return std::exchange(passed, true); });
    }
    case ServiceCall::REQUEST_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("no request");
}

void CheckServedStateLoads(ServiceCore& core, const std::string& group_id,
                           const google::protobuf::RepeatedPtrField<std::string>& tenant_credential_keys) {
  v1::GetGroupRequest request;
  request.set_group_id(group_id);
  absl::StatusOr<v1::GetGroupResponse> served = core.GetGroup(kTenant, request);
  Check(served.ok(), "the service cannot serve a group it accepted");
  absl::StatusOr<art::PublicGroup> loaded =
      art::PublicGroup::FromProto(served->state(), kTenant, TrustedKeys(tenant_credential_keys));
  Check(loaded.ok(), "a member cannot load the public state the service serves");
  Check(loaded->epoch() == served->state().epoch(), "the served state's epoch changed on loading");
}

}  // namespace artd::fuzz
