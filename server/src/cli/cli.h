#pragma once
// The `instant` command line, Centrifugo-compatible where Centrifugo has the same (spec §9.2):
//
//   instant [serve] [-c config.json] [-p PORT] [-a ADDRESS] [--log_level L] [--workers N] ...
//   instant genconfig   [-c config.json]     write a config with fresh random secrets
//   instant checkconfig [-c config.json]     validate; "config.json: ok" or the problem
//   instant gentoken    [-c ...] [-u USER] [-t TTL]              HS256 connection token
//   instant gensubtoken [-c ...] [-u USER] -s CHANNEL [-t TTL]   HS256 subscription token
//   instant version
//
// Precedence for serve: flags > INSTANT_* > CENTRIFUGO_* > config file > defaults.
// Exit codes: 0 ok; 1 runtime or configuration error (message on stderr); 2 usage error (with
// the usage text). CLI11 is confined to cli.cc (it costs ~10 s of compile time per includer).

namespace instant::cli {

int RunCli(int argc, char** argv);

}  // namespace instant::cli
