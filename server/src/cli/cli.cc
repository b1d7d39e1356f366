#include "cli/cli.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "auth/signer.h"
#include "redis/address.h"
#include "auth/verifier.h"
#include "base/json_writer.h"
#include "base/log.h"
#include "base/random.h"
#include "config/config.h"
#include "config/duration.h"
#include "config/version.h"
#include "node/serve.h"

namespace instant::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr const char* kDefaultConfigPath = "config.json";
constexpr int64_t kDefaultTokenTtl = 604800;  // one week, as centrifugo gentoken

void PrintError(std::string_view message) { fmt::print(stderr, "error: {}\n", message); }
void PrintWarning(std::string_view message) { fmt::print(stderr, "warning: {}\n", message); }

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// --- options shared by several subcommands ------------------------------------------------------

// -c/--config may be given on the root ("instant -c x.json genconfig") or on the subcommand; the
// subcommand's wins. `given` tells an explicit path from the default.
struct ConfigPath {
  const std::string* root = nullptr;  // bound to the root's -c
  const CLI::Option* root_opt = nullptr;
  std::string sub = kDefaultConfigPath;  // bound to the subcommand's -c, if it has one
  const CLI::Option* sub_opt = nullptr;

  std::string path() const {
    if (sub_opt != nullptr && sub_opt->count() > 0) return sub;
    return *root;
  }
  bool given() const {
    return root_opt->count() > 0 || (sub_opt != nullptr && sub_opt->count() > 0);
  }
};

const CLI::Option* AddConfigOption(CLI::App* app, std::string* target, std::string_view what) {
  return app->add_option("-c,--config", *target, std::string(what))
      ->type_name("PATH")
      ->capture_default_str();
}

// Loads the configuration a subcommand works on. A missing *default* config.json is allowed
// when `defaults_ok` (serve, gentoken): the environment may still provide everything. A missing
// explicit path is always an error. Warnings are returned, not printed, so serve can print them
// after the log level is known.
std::optional<config::Config> LoadConfig(const ConfigPath& cp, bool defaults_ok,
                                         std::vector<std::string>* warnings) {
  std::vector<std::string> env = config::CurrentEnvironment();
  std::string path = cp.path();
  config::LoadResult r;
  if (!cp.given() && defaults_ok && !FileExists(path)) {
    warnings->push_back(
        fmt::format("{} not found: using defaults and the environment (create one "
                    "with `instant genconfig`)",
                    path));
    r = config::LoadString("{}", "defaults", env);
  } else {
    r = config::LoadFile(path, env);
  }
  warnings->insert(warnings->end(), r.warnings.begin(), r.warnings.end());
  if (!r.ok) {
    for (const std::string& w : *warnings) PrintWarning(w);
    PrintError(r.error);
    return std::nullopt;
  }
  return std::move(r.config);
}

std::string FormatUtc(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// --- serve
// -----------------------------------------------------------------------------------------

struct ServeFlags {
  int port = 0;
  std::string address;
  std::string log_level;
  std::string log_format;
  int workers = 0;
  std::string name;
  std::string engine;
  bool client_insecure = false;
  bool api_insecure = false;
  bool health = false;
  bool prometheus = false;
  // The root app's options, to tell "given" from "default" and to reject them on subcommands
  // other than serve.
  CLI::Option *port_opt, *address_opt, *log_level_opt, *workers_opt, *name_opt, *engine_opt;
  std::vector<CLI::Option*> all;
};

void AddServeFlags(CLI::App* app, ServeFlags* f) {
  f->port_opt =
      app->add_option("-p,--port", f->port, "Port to listen on (config: port, default 8427)")
          ->check(CLI::Range(1, 65535));
  f->address_opt = app->add_option("-a,--address", f->address,
                                   "Interface address to listen on (config: address, default all)");
  f->log_level_opt =
      app->add_option("--log_level", f->log_level, "Log level (config: log_level, default info)")
          ->check(
              CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "none", "off"}));
  f->workers_opt = app->add_option("--workers", f->workers,
                                   "Event loops, 0 = one per CPU (config: workers, default 0)")
                       ->check(CLI::Range(0, 256));
  f->name_opt =
      app->add_option("-n,--name", f->name, "Node name (config: name, default <hostname>_<port>)");
  f->engine_opt =
      app->add_option("-e,--engine", f->engine, "Engine (config: engine, default memory)")
          ->check(CLI::IsMember({"memory", "redis"}));
  f->all = {f->port_opt,    f->address_opt, f->log_level_opt,
            f->workers_opt, f->name_opt,    f->engine_opt};
  f->all.push_back(app->add_option("--log_format", f->log_format,
                                   "Log records as text lines or JSON objects (config: log_format, default text)")
                       ->check(CLI::IsMember({"text", "json"})));
  f->all.push_back(app->add_flag("--client_insecure", f->client_insecure,
                                 "Let clients connect, subscribe and publish without tokens or "
                                 "permissions (development only)"));
  f->all.push_back(app->add_flag("--api_insecure", f->api_insecure,
                                 "Accept server API requests without an API key (development "
                                 "only)"));
  f->all.push_back(
      app->add_flag("--health", f->health, "Enable the /health endpoint (config: health)"));
  f->all.push_back(app->add_flag("--prometheus", f->prometheus,
                                 "Enable the /metrics endpoint (config: prometheus)"));
}

void ApplyServeFlags(const ServeFlags& f, config::Config* c) {
  if (f.port_opt->count() > 0) c->port = f.port;
  if (f.address_opt->count() > 0) c->address = f.address;
  if (f.log_level_opt->count() > 0) c->log_level = f.log_level;
  if (!f.log_format.empty()) c->log_format = f.log_format;
  if (f.workers_opt->count() > 0) c->workers = f.workers;
  if (f.name_opt->count() > 0) c->name = f.name;
  if (f.engine_opt->count() > 0) c->engine = f.engine;
  if (f.client_insecure) c->client_insecure = true;
  if (f.api_insecure) c->api_insecure = true;
  if (f.health) c->health = true;
  if (f.prometheus) c->prometheus = true;
}

// What serve runs on: the config file (or defaults), the environment, then the flags, validated
// as a whole. The same steps run again on SIGHUP (node/serve.h ConfigLoader). `file_required`:
// a reload of a node started from a file must read that file; if it is gone the reload fails
// instead of silently falling back to defaults.
config::LoadResult LoadServeConfig(const ConfigPath& cp, const ServeFlags& flags,
                                   bool file_required) {
  std::vector<std::string> env = config::CurrentEnvironment();
  std::string path = cp.path();
  config::LoadResult r;
  if (!cp.given() && !file_required && !FileExists(path)) {
    r = config::LoadString("{}", "defaults", env);
    r.warnings.insert(r.warnings.begin(),
                      fmt::format("{} not found: using defaults and the environment (create one "
                                  "with `instant genconfig`)",
                                  path));
  } else {
    r = config::LoadFile(path, env);
  }
  if (!r.ok) return r;
  ApplyServeFlags(flags, &r.config);
  // Flags can change values the loader already checked (--engine redis); check the final config
  // and keep only warnings that are new.
  std::vector<std::string> final_warnings;
  if (!config::Validate(r.config, r.config.source_path.empty() ? "defaults" : r.config.source_path,
                        &r.error, &final_warnings)) {
    r.ok = false;
    return r;
  }
  std::set<std::string> seen(r.warnings.begin(), r.warnings.end());
  for (std::string& w : final_warnings) {
    if (seen.insert(w).second) r.warnings.push_back(std::move(w));
  }
  return r;
}

int RunServe(const ConfigPath& cp, const ServeFlags& flags) {
  config::LoadResult r = LoadServeConfig(cp, flags, /*file_required=*/false);
  if (!r.ok) {
    for (const std::string& w : r.warnings) PrintWarning(w);
    PrintError(r.error);
    return kExitError;
  }
  const config::Config& c = r.config;
  log::Level level = log::Level::kInfo;
  log::ParseLevel(c.log_level, &level);  // validated above
  log::SetLevel(level);
  log::Format format = log::Format::kText;
  log::ParseFormat(c.log_format, &format);  // validated above
  log::SetFormat(format);
  for (const std::string& w : r.warnings) log::Warn("{}", w);
  log::Info("configuration: {}",
            c.source_path.empty() ? "defaults and environment" : c.source_path);
  // `cp` and `flags` live in Run's frame, which outlives Serve.
  const bool from_file = !c.source_path.empty();
  return node::Serve(c, [&cp, &flags, from_file] { return LoadServeConfig(cp, flags, from_file); });
}

// --- genconfig -----------------------------------------------------------------------------------

int RunGenconfig(const ConfigPath& cp) {
  std::string path = cp.path();
  std::string_view ext = std::string_view(path).substr(std::min(path.size(), path.rfind('.')));
  if (ext == ".yaml" || ext == ".yml" || ext == ".toml") {
    PrintError(fmt::format("{}: only JSON configs are supported: use a .json path", path));
    return kExitError;
  }
  std::string json = "{\n";
  auto field = [&](std::string_view key, std::string_view value, bool last) {
    json += "  ";
    json::AppendString(json, key);
    json += ": ";
    json::AppendString(json, value);
    json += last ? "\n" : ",\n";
  };
  field("token_hmac_secret_key", NewUuidV4(), false);
  field("admin_password", NewUuidV4(), false);
  field("admin_secret", NewUuidV4(), false);
  field("api_key", NewUuidV4(), false);
  json += "  \"allowed_origins\": []\n}\n";

  // O_EXCL: never overwrite, even if the file appears between a check and the write. 0600: the
  // file holds the token secret and the API key.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      PrintError(
          fmt::format("{} already exists: remove it first, or write elsewhere with "
                      "--config PATH",
                      path));
    } else {
      PrintError(fmt::format("{}: cannot create: {}", path, std::strerror(errno)));
    }
    return kExitError;
  }
  size_t written = 0;
  while (written < json.size()) {
    ssize_t n = ::write(fd, json.data() + written, json.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      PrintError(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
      ::close(fd);
      ::unlink(path.c_str());
      return kExitError;
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    PrintError(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
    return kExitError;
  }
  // Validate what was written, as centrifugo genconfig does; the environment is not applied: the
  // file itself must be valid.
  config::LoadResult r = config::LoadFile(path, {});
  if (!r.ok) {
    PrintError(r.error);
    return kExitError;
  }
  fmt::print("{}: written\n", path);
  return kExitOk;
}

// --- checkconfig ---------------------------------------------------------------------------------

int RunCheckconfig(const ConfigPath& cp) {
  std::vector<std::string> warnings;
  std::optional<config::Config> c = LoadConfig(cp, /*defaults_ok=*/false, &warnings);
  if (!c) return kExitError;
  for (const std::string& w : warnings) PrintWarning(w);
  // Keys are only parsed when a Verifier is built; do it now so a broken PEM fails here and not
  // at the first connection.
  std::string error;
  auth::VerifierConfig vc{
      .hmac_secret = c->token_hmac_secret_key,
      .rsa_public_pem = c->token_rsa_public_key,
      .ecdsa_public_pem = c->token_ecdsa_public_key,
      .audience = c->token_audience,
      .issuer = c->token_issuer,
  };
  if (auth::Verifier::Create(vc, &error) == nullptr) {
    PrintError(fmt::format("{}: {}", cp.path(), error));
    return kExitError;
  }
  // Redis addresses are parsed when the engine starts; parse them now too.
  if (c->engine == "redis") {
    for (const std::string& text : c->redis_address) {
      redis::Address address;
      if (!redis::ParseAddress(text, &address, &error)) {
        PrintError(fmt::format("{}: \"redis_address\" {}: {}: write \"host:port\" or "
                               "\"redis://[[user]:password@]host[:port][/db]\"",
                               cp.path(), text, error));
        return kExitError;
      }
    }
  }
  fmt::print("{}: ok\n", cp.path());
  return kExitOk;
}

// --- gentoken / gensubtoken ----------------------------------------------------------------------

struct TokenFlags {
  std::string user;
  std::string channel;
  int64_t ttl = kDefaultTokenTtl;
};

int RunGentoken(const ConfigPath& cp, const TokenFlags& f, bool subscription) {
  std::vector<std::string> warnings;
  std::optional<config::Config> c = LoadConfig(cp, /*defaults_ok=*/true, &warnings);
  if (!c) return kExitError;
  for (const std::string& w : warnings) PrintWarning(w);
  if (c->token_hmac_secret_key.empty()) {
    PrintError(
        fmt::format("\"token_hmac_secret_key\" is empty in {}: tokens are signed (HS256) "
                    "with it; set it in the config (see `instant genconfig`) or in "
                    "INSTANT_TOKEN_HMAC_SECRET_KEY",
                    c->source_path.empty() ? cp.path() : c->source_path));
    return kExitError;
  }
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string claims = "{\"sub\":";
  json::AppendString(claims, f.user);
  if (subscription) {
    claims += ",\"channel\":";
    json::AppendString(claims, f.channel);
  }
  if (f.ttl > 0) {
    claims += ",\"exp\":";
    json::AppendInt(claims, now + f.ttl);
  }
  claims += ",\"iat\":";
  json::AppendInt(claims, now);
  claims += "}";
  fmt::print("{}\n", auth::SignHs256(c->token_hmac_secret_key, claims));

  std::string who =
      f.user.empty() ? std::string("anonymous user") : fmt::format("user \"{}\"", f.user);
  std::string what =
      subscription ? fmt::format("subscription token for {} in channel \"{}\"", who, f.channel)
                   : fmt::format("connection token for {}", who);
  std::string until = f.ttl > 0 ? fmt::format("valid until {} (ttl {})", FormatUtc(now + f.ttl),
                                              config::FormatDuration(std::chrono::seconds(f.ttl)))
                                : std::string("without expiration");
  fmt::print(stderr, "HS256 {}, {}\n", what, until);
  return kExitOk;
}

// --- the app -------------------------------------------------------------------------------------

int Run(int argc, char** argv) {
  CLI::App app{fmt::format("instant {}: a real-time messaging server, wire-compatible with "
                           "Centrifugo (client protocol v1/v2 over WebSocket, HTTP API, JWT).\n"
                           "Without a subcommand it serves, like `instant serve`.",
                           kVersion),
               "instant"};
  app.failure_message(CLI::FailureMessage::help);
  app.set_version_flag("--version",
                       fmt::format("instant {} (Centrifugo protocol compatible)", kVersion));
  app.require_subcommand(0, 1);
  app.footer(
      "Configuration: config.json keys are Centrifugo's (v3 spellings accepted). Every key can "
      "be set\nfrom the environment as INSTANT_<KEY> (wins) or CENTRIFUGO_<KEY>; flags win over "
      "both.\nReference: docs/configuration.md\n\n"
      "Signals (serve): SIGINT/SIGTERM shut down gracefully (clients are told to reconnect).\n"
      "SIGHUP reloads the configuration (same file, environment and flags): token keys, origins,\n"
      "channel options and namespaces, API key, limits and log level apply at once; an invalid\n"
      "file changes nothing; keys that need a restart (port, address, workers, name, engine,\n"
      "redis_*, ping_interval, pong_timeout) are logged as not applied.");

  std::string root_config = kDefaultConfigPath;
  ConfigPath cp;
  cp.root = &root_config;
  cp.root_opt = AddConfigOption(&app, &root_config, "Configuration file (JSON)");
  ServeFlags serve_flags;
  AddServeFlags(&app, &serve_flags);

  CLI::App* serve =
      app.add_subcommand("serve", "Run the server (the default without a subcommand)");
  // Options after `serve` are the root's (instant serve --port 1 == instant --port 1).
  serve->fallthrough();

  ConfigPath genconfig_cp = cp;
  CLI::App* genconfig =
      app.add_subcommand("genconfig",
                         "Write a new config file with random token secret, API key and admin "
                         "credentials (never overwrites)");
  genconfig_cp.sub_opt = AddConfigOption(genconfig, &genconfig_cp.sub, "File to create");

  ConfigPath check_cp = cp;
  CLI::App* checkconfig =
      app.add_subcommand("checkconfig",
                         "Validate a config file (and its environment overrides); prints \"<path>: "
                         "ok\" or the first problem");
  check_cp.sub_opt = AddConfigOption(checkconfig, &check_cp.sub, "Configuration file to check");

  TokenFlags token_flags;
  ConfigPath token_cp = cp;
  CLI::App* gentoken = app.add_subcommand(
      "gentoken", "Print an HS256 connection token (JWT) signed with token_hmac_secret_key");
  token_cp.sub_opt =
      AddConfigOption(gentoken, &token_cp.sub, "Configuration file holding the secret");
  gentoken->add_option("-u,--user", token_flags.user, "User ID (\"sub\" claim); empty = anonymous")
      ->type_name("USER");
  gentoken->add_option("-t,--ttl", token_flags.ttl, "Lifetime in seconds; 0 = no \"exp\" claim")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  TokenFlags sub_flags;
  ConfigPath sub_cp = cp;
  CLI::App* gensubtoken =
      app.add_subcommand("gensubtoken", "Print an HS256 subscription token (JWT) for one channel");
  sub_cp.sub_opt =
      AddConfigOption(gensubtoken, &sub_cp.sub, "Configuration file holding the secret");
  gensubtoken->add_option("-u,--user", sub_flags.user, "User ID (\"sub\" claim)")
      ->type_name("USER");
  gensubtoken->add_option("-s,--channel", sub_flags.channel, "Channel (\"channel\" claim)")
      ->required()
      ->type_name("CHANNEL");
  gensubtoken->add_option("-t,--ttl", sub_flags.ttl, "Lifetime in seconds; 0 = no \"exp\" claim")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  CLI::App* version = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  bool serving = app.get_subcommands().empty() || app.got_subcommand(serve);
  if (!serving) {
    for (CLI::Option* o : serve_flags.all) {
      if (o->count() > 0) {
        fmt::print(stderr,
                   "error: {} applies to serve only\nRun with --help for more "
                   "information.\n",
                   o->get_name());
        return kExitUsage;
      }
    }
  }
  if (app.got_subcommand(version)) {
    fmt::print("instant {} (Centrifugo protocol compatible)\n", kVersion);
    return kExitOk;
  }
  if (app.got_subcommand(genconfig)) return RunGenconfig(genconfig_cp);
  if (app.got_subcommand(checkconfig)) return RunCheckconfig(check_cp);
  if (app.got_subcommand(gentoken)) return RunGentoken(token_cp, token_flags, false);
  if (app.got_subcommand(gensubtoken)) {
    if (sub_flags.channel.empty()) {
      fmt::print(stderr, "error: --channel must not be empty\n");
      return kExitUsage;
    }
    return RunGentoken(sub_cp, sub_flags, true);
  }
  return RunServe(cp, serve_flags);
}

}  // namespace

int RunCli(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    // Nothing should throw past here; if something does, fail like a config error, not a crash.
    PrintError(e.what());
    return kExitError;
  }
}

}  // namespace instant::cli
