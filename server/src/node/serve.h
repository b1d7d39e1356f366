#pragma once
// Entry point of a serving node: builds the loops, listeners, engine and hub from a validated
// Config and runs until SIGINT/SIGTERM; SIGHUP reloads the configuration. Returns the process
// exit code.

#include <functional>

#include "config/config.h"

namespace instant::node {

// Reads the configuration again exactly as the running one was read (same file, environment and
// command-line flags) and validates it: LoadResult::ok with the config, or the error. Called on
// the main thread on SIGHUP.
using ConfigLoader = std::function<config::LoadResult()>;

// Blocks until shutdown. Logs and returns 1 if the node cannot start (port in use...), 0 after a
// clean shutdown. Without `reload`, SIGHUP is logged and ignored.
int Serve(const config::Config& config, ConfigLoader reload = {});

}  // namespace instant::node
