// Server reflection answers (grpc.reflection.v1alpha, what gRPC 1.51 serves): a client that knows
// nothing of the API can list its services. Spoken with a generic stub and hand-encoded messages, so
// this test does not link a second copy of the reflection protos.
#include <gtest/gtest.h>

#include <grpcpp/generic/generic_stub.h>

#include "tests/service/service_harness.h"

namespace artd::testing {
namespace {

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  return bytes;
}

TEST(Reflection, ListsTheArtServices) {
  ServiceHarness harness;
  grpc::GenericStub stub(harness.channel());
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  void* tag = nullptr;
  bool ok = false;
  auto call = stub.PrepareCall(&context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(queue.Next(&tag, &ok) && ok);
  // ServerReflectionRequest { list_services (field 7) = "" }.
  const std::string request("\x3a\x00", 2);
  grpc::Slice slice(request);
  grpc::ByteBuffer outgoing(&slice, 1);
  call->Write(outgoing, reinterpret_cast<void*>(2));
  ASSERT_TRUE(queue.Next(&tag, &ok) && ok);
  grpc::ByteBuffer incoming;
  call->Read(&incoming, reinterpret_cast<void*>(3));
  ASSERT_TRUE(queue.Next(&tag, &ok) && ok);
  const std::string response = ToString(incoming);
  for (const char* service : {"art.v1.KeyDirectory", "art.v1.Groups", "art.v1.Mailbox", "art.v1.StateBlobs",
                              "grpc.health.v1.Health"}) {
    EXPECT_NE(response.find(service), std::string::npos) << service << " is not listed";
  }
  call->WritesDone(reinterpret_cast<void*>(4));
  ASSERT_TRUE(queue.Next(&tag, &ok));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_TRUE(queue.Next(&tag, &ok));
  EXPECT_TRUE(status.ok()) << status.error_message();
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace artd::testing
