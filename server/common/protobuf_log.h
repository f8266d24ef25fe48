// Routes libprotobuf's own log lines into spdlog. Left to protobuf, each one
// is a "[libprotobuf ERROR ...]" line on stderr, and a client can cause one
// per request (a string field that is not valid UTF-8 in a ModelInfer): a
// log flood at the client's will. Here warnings and errors are logged as
// spdlog warnings, at most one a minute, the next one saying how many were
// left out; INFO lines go to debug; FATAL stays fatal (protobuf aborts after
// the handler returns).
#ifndef MLPSERVE_SERVER_COMMON_PROTOBUF_LOG_H_
#define MLPSERVE_SERVER_COMMON_PROTOBUF_LOG_H_

namespace mlpserve {

// Installs the handler. Not thread-safe (protobuf's SetLogHandler is not):
// call it in main before any other thread starts.
void RouteProtobufLogsToSpdlog();

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_COMMON_PROTOBUF_LOG_H_
