#include "server/rpc/graceful_shutdown.h"

namespace mlpserve {

bool GracefulShutdown(InferenceService& service, ModelRepository& repository,
                      RepositoryController* controller, GrpcServer& grpc, absl::Duration grace) {
  service.SetReady(false);
  repository.Drain();  // queued requests start now, not after their queue delay
  if (controller != nullptr) controller->Stop();
  return grpc.Shutdown(grace);
}

}  // namespace mlpserve
