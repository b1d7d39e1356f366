#pragma once
// Entry point of a serving node: builds the loops, listeners, engine and hub from a validated
// Config and runs until SIGINT/SIGTERM. Returns the process exit code.

namespace instant::config {
struct Config;
}

namespace instant::node {

// Blocks until shutdown. Logs and returns 1 if the node cannot start (port in use...), 0 after a
// clean shutdown.
int Serve(const config::Config& config);

}  // namespace instant::node
