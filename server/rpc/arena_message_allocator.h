// A gRPC callback-API message allocator that puts each call's request and
// response on one protobuf Arena.
//
// Without it gRPC parses the request into heap-allocated messages: every
// nested tensor, string and repeated field of a ModelInferRequest and of its
// response is its own malloc and free. Here each call makes one allocation
// (the holder, which carries the arena's first block inline) and frees it
// all at once when gRPC releases the call. Messages larger than the first
// block spill into blocks the arena allocates and frees with the call.
//
// Registered per method with the generated SetMessageAllocatorFor_<Method>;
// gRPC calls AllocateMessages from any thread (it is stateless) and Release
// once the call is done with both messages.
#ifndef MLPSERVE_SERVER_RPC_ARENA_MESSAGE_ALLOCATOR_H_
#define MLPSERVE_SERVER_RPC_ARENA_MESSAGE_ALLOCATOR_H_

#include <cstddef>

#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"

namespace mlpserve {

template <typename Request, typename Response, size_t kFirstBlockBytes = 2048>
class ArenaMessageAllocator final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override { return new Holder(); }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(FirstBlock(first_block_)) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions FirstBlock(char* block) {
      google::protobuf::ArenaOptions options;
      options.initial_block = block;
      options.initial_block_size = kFirstBlockBytes;
      return options;
    }

    // Declared before arena_: it must exist when the arena is constructed
    // and outlive it.
    alignas(std::max_align_t) char first_block_[kFirstBlockBytes];
    google::protobuf::Arena arena_;
  };
};

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_RPC_ARENA_MESSAGE_ALLOCATOR_H_
