// corralctl: the operator's command line for a corral cluster, shaped like
// etcdctl v3. Lease and member ids are hexadecimal, as etcdctl prints them,
// in what it takes, prints and reports in errors alike.
//
// Exit codes:
//   0  done
//   1  the cluster answered with an error (not found member, compacted, ...)
//   2  usage: bad flags or arguments
//   3  unreachable: no member answered (nothing was applied)
//   4  timeout: no answer in time; a write may or may not have been applied
//   5  local failure (a snapshot file could not be written, a value file
//      or stdin could not be read)
//
// Log collection (schema/records.md): `agents` and `tasks` are read-only
// views of the key space at one revision; `collector drain|undrain` and
// `rebalance` write the operator request keys that apply acts on.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cli/auth_commands.h"
#include "cli/collection_view.h"
#include "cli/curve_keygen.h"
#include "cli/completion.h"
#include "cli/help_texts.h"
#include "cli/concurrency_commands.h"
#include "cli/alarm_command.h"
#include "cli/hashkv_command.h"
#include "cli/member_add_hint.h"
#include "cli/output.h"
#include "cli/range_view.h"
#include "cli/snapshot_commands.h"
#include "cli/suggest.h"
#include "cli/txn_text.h"
#include "cli/unreachable_diagnosis.h"
#include "client/client.h"
#include "client/curve_options.h"
#include "client/duration.h"
#include "client/lease_keeper.h"

using namespace corral::client;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitServerError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;
constexpr int kExitTimeout = 4;
constexpr int kExitLocal = 5;
// How often long-running commands (watch, lease keepalive) look for SIGINT.
constexpr int64_t kSignalPollMs = 100;
// Snapshots stream a whole database: they get this long by default.
constexpr int64_t kSnapshotTimeoutMs = 600'000;
// `agents` looks up at most this many leases (one request each); past it the
// TTL shows "?", so that a huge fleet does not cost a huge number of requests.
constexpr size_t kMaxLeaseLookups = 1000;
// Operator requests carry who made them, for whoever reads the key later.
constexpr const char* kDrainValue = R"({"by":"corralctl"})";
constexpr const char* kRebalanceValue = R"({"requested":true,"by":"corralctl"})";
// A value read from a file or stdin (put) or a txn read from stdin is read
// up to this; past it the command fails before sending anything (members
// refuse far smaller requests anyway, with tooLarge).
constexpr size_t kMaxInputBytes = size_t{64} << 20;

int exit_code_for(const Error& e) {
  switch (e.code) {
    case ErrorCode::kUnreachable:
    case ErrorCode::kClosed:
      return kExitUnreachable;
    case ErrorCode::kTimeout:
      return kExitTimeout;
    case ErrorCode::kStorage:
      return e.message.find("write") != std::string::npos ||
                     e.message.find("fsync") != std::string::npos ||
                     e.message.find("cannot create") != std::string::npos ||
                     e.message.find("rename") != std::string::npos
                 ? kExitLocal
                 : kExitServerError;
    default:
      return kExitServerError;
  }
}

// Set once the client exists: explains an error that found no member to
// serve it (cli/unreachable_diagnosis.h).
std::function<std::string()> explain_no_member;

int fail(const Error& e) {
  std::fprintf(stderr, "Error: %s\n", to_string(e).c_str());
  const bool no_member = e.code == ErrorCode::kUnreachable || e.code == ErrorCode::kTimeout ||
                         e.code == ErrorCode::kUnavailable;
  if (no_member && explain_no_member) {
    const std::string why = explain_no_member();
    if (!why.empty()) std::fprintf(stderr, "%s\n", why.c_str());
  }
  return exit_code_for(e);
}

using corral::cli::parse_hex_id;

// Members name a lease they do not know in decimal; corralctl says it in
// hex, the form the user typed and every other command prints.
int fail_lease(const Error& e, int64_t lease) {
  if (e.code != ErrorCode::kLeaseNotFound) return fail(e);
  Error named = e;
  named.message = "lease " + hex_id(static_cast<uint64_t>(lease)) + " not found";
  return fail(named);
}

// The server says "no such member"; name the id, in hex as everywhere.
int fail_member(const Error& e, uint64_t member) {
  if (e.code != ErrorCode::kNotFound) return fail(e);
  Error named = e;
  named.message = "member " + hex_id(member) + " not found";
  return fail(named);
}

// A whole number of at least `min`, checked by CLI11 before anything is
// sent; the message names the bound (CLI11's own ranges print a double's
// limit, 309 digits long).
CLI::Validator at_least(int64_t min, const std::string& noun) {
  return CLI::Validator(
      [min, noun](std::string& text) -> std::string {
        int64_t v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size()) {
          return "must be " + noun + " (a whole number), got '" + text + "'";
        }
        if (v < min) return "must be " + noun + " of at least " + std::to_string(min) + ", got " + text;
        return {};
      },
      noun + " >= " + std::to_string(min));
}

// A local input (a value file, stdin) that could not be read: nothing was sent.
int fail_local(const Error& e) {
  std::fprintf(stderr, "Error: %s\n", to_string(e).c_str());
  return kExitLocal;
}

// All of `in` up to kMaxInputBytes; `what` names it in the error.
Result<std::string> read_all(std::istream& in, const std::string& what) {
  std::string data;
  char buf[65536];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > kMaxInputBytes) {
      return make_error(ErrorCode::kTooLarge,
                        what + " is over " + std::to_string(kMaxInputBytes) + " bytes");
    }
  }
  if (in.bad()) return make_error(ErrorCode::kBadRequest, "cannot read " + what);
  return data;
}

Result<std::string> read_value_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return make_error(ErrorCode::kBadRequest, "cannot open " + path + ": " + std::strerror(errno));
  }
  return read_all(file, path);
}

// Reads a txn from stdin; with `interactive`, prompts for each section as etcdctl -i does.
Result<TxnRequest> read_txn(bool interactive) {
  corral::cli::TxnTextParser parser;
  using Section = corral::cli::TxnTextParser::Section;
  const char* prompts[] = {"compares:", "success requests (get, put, del):",
                           "failure requests (get, put, del):"};
  Section prompted = Section::kDone;
  size_t total = 0;
  std::string line;
  while (parser.section() != Section::kDone) {
    if (interactive && parser.section() != prompted) {
      prompted = parser.section();
      std::cout << prompts[static_cast<int>(prompted)] << std::endl;
    }
    if (!std::getline(std::cin, line)) break;
    total += line.size() + 1;
    if (total > kMaxInputBytes) {
      return make_error(ErrorCode::kTooLarge, "txn is over " + std::to_string(kMaxInputBytes) + " bytes");
    }
    if (Status s = parser.feed(line); !s.ok()) return s.error();
  }
  return parser.take();
}

void print_txn(Printer& out, const TxnResult& r) {
  out.txn_outcome(r);
  for (const TxnOpResult& op : r.responses) {
    if (const auto* put = std::get_if<PutResult>(&op.result)) out.put(*put);
    if (const auto* range = std::get_if<RangeResult>(&op.result)) out.range(*range, false);
    if (const auto* del = std::get_if<DeleteResult>(&op.result)) out.del(*del);
  }
}

// Waits for SIGINT/SIGTERM (blocked in main, so they queue) up to `ms`.
bool interrupted_within(int64_t ms) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1'000'000)};
  return sigtimedwait(&set, nullptr, &ts) > 0;
}

namespace records = corral::schema::records;

// Every key under `prefix` at `revision` (0: the latest): the views read each
// prefix at the revision of their first read, so they show one state.
Result<RangeResult> read_prefix(Client& client, std::string_view prefix, int64_t revision) {
  RangeRequest r;
  r.key = std::string(prefix);
  r.range_end = prefix_range_end(r.key);
  r.revision = revision;
  return client.call(std::move(r));
}

// Seconds left of each lease (-1: expired), looked up in parallel; a lookup
// that fails is left out (the row shows "?").
std::map<int64_t, int64_t> lease_ttls(Client& client, const std::vector<int64_t>& leases) {
  std::vector<std::future<Result<LeaseTtlResult>>> pending;
  for (int64_t id : leases) {
    LeaseTtlRequest r;
    r.id = id;
    pending.push_back(client.call_future(r));
  }
  std::map<int64_t, int64_t> ttls;
  for (size_t i = 0; i < pending.size(); ++i) {
    auto res = pending[i].get();
    if (res.ok()) ttls[leases[i]] = res->ttl_seconds;
  }
  return ttls;
}

int show_agents(Client& client, Printer& out) {
  auto agents = read_prefix(client, records::kAgentsPrefix, 0);
  if (!agents.ok()) return fail(agents.error());
  const int64_t rev = agents->header.revision;
  auto assigns = read_prefix(client, records::kAssignPrefix, rev);
  if (!assigns.ok()) return fail(assigns.error());
  auto drains = read_prefix(client, records::kDrainPrefix, rev);
  if (!drains.ok()) return fail(drains.error());
  auto rows = corral::cli::agent_rows(agents->kvs, assigns->kvs, drains->kvs);
  corral::cli::apply_lease_ttls(rows, lease_ttls(client, corral::cli::leases_to_look_up(rows, kMaxLeaseLookups)));
  out.agents(agents->header, rows);
  return kExitOk;
}

// Filters narrow the reads where a prefix allows it (an app, its topic, a
// collector); the rows are filtered all the same.
int show_tasks(Client& client, Printer& out, const corral::cli::TaskFilter& filter) {
  std::string streams_prefix(records::kStreamsPrefix), checkpoints_prefix(records::kCheckpointsPrefix);
  if (!filter.app.empty()) {
    const std::string narrow = filter.app + "/" + (filter.topic.empty() ? "" : filter.topic + "/");
    streams_prefix += narrow;
    checkpoints_prefix += narrow;
  }
  const std::string assign_prefix = filter.collector.empty() ? std::string(records::kAssignPrefix)
                                                             : records::assign_prefix(filter.collector);
  auto streams = read_prefix(client, streams_prefix, 0);
  if (!streams.ok()) return fail(streams.error());
  const int64_t rev = streams->header.revision;
  auto assigns = read_prefix(client, assign_prefix, rev);
  if (!assigns.ok()) return fail(assigns.error());
  auto checkpoints = read_prefix(client, checkpoints_prefix, rev);
  if (!checkpoints.ok()) return fail(checkpoints.error());
  out.tasks(streams->header,
            corral::cli::filter_rows(corral::cli::task_rows(streams->kvs, assigns->kvs, checkpoints->kvs), filter));
  return kExitOk;
}

// Puts (drain) or deletes (undrain) /corral/drain/<id>; says whether the
// key was there before.
Result<Header> set_drain_mark(Client& client, const std::string& id, bool drain, bool& was_draining) {
  if (drain) {
    PutRequest r;
    r.key = records::drain_key(id);
    r.value = kDrainValue;
    r.prev_kv = true;
    auto res = client.call(std::move(r));
    if (!res.ok()) return res.error();
    was_draining = res->has_prev_kv;
    return res->header;
  }
  DeleteRequest r;
  r.key = records::drain_key(id);
  auto res = client.call(std::move(r));
  if (!res.ok()) return res.error();
  was_draining = res->deleted > 0;
  return res->header;
}

// Changes the drain mark, then reads what the collector holds at that
// revision to say what happens next.
int change_drain(Client& client, Printer& out, const std::string& id, bool drain) {
  corral::cli::DrainOutcome o;
  o.collector = id;
  o.draining = drain;
  auto header = set_drain_mark(client, id, drain, o.was_draining);
  if (!header.ok()) return fail(header.error());
  o.revision = header->revision;
  RangeRequest held;
  held.key = records::assign_prefix(id);
  held.range_end = prefix_range_end(held.key);
  held.revision = o.revision;
  auto tasks = client.call(std::move(held));
  if (!tasks.ok()) return fail(tasks.error());
  o.tasks = tasks->count;
  o.revoking = corral::cli::count_revoking(tasks->kvs);
  RangeRequest record;
  record.key = records::agent_key(id);
  record.revision = o.revision;
  auto agent = client.call(std::move(record));
  if (!agent.ok()) return fail(agent.error());
  o.registered = corral::cli::is_registered_collector(agent->kvs);
  out.drain(header.value(), o);
  return kExitOk;
}

int request_rebalance(Client& client, Printer& out) {
  auto res = client.put(std::string(records::kRebalanceKey), kRebalanceValue);
  if (!res.ok()) return fail(res.error());
  out.rebalance(res->header);
  return kExitOk;
}

// An id given on the command line, checked before anything is sent.
bool usable_id(const std::string& what, const std::string& id) {
  if (id.empty() || records::valid_id(id)) return true;
  std::fprintf(stderr, "Error: %s '%s' is not an id of 1..%zu bytes of [A-Za-z0-9._-]\n", what.c_str(),
               id.c_str(), records::kMaxIdBytes);
  return false;
}

// Where a command was expected and the word matched none: the path of
// commands before it ("corralctl lease") and the word. CLI11 alone says only
// "A subcommand is required". Global options and their values are skipped.
struct UnknownCommand {
  std::string path;
  std::string word;
  std::vector<std::string> names;  // what would have matched, aliases included
};
std::optional<UnknownCommand> find_unknown_command(CLI::App& app, int argc, char** argv) {
  static const std::vector<std::string> kValued = {"--endpoints", "-w", "--write-out", "--command-timeout",
                                                   "--curve-key-file", "--curve-server-key", "--user",
                                                   "--password"};
  CLI::App* current = &app;
  std::string path = "corralctl";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (!arg.empty() && arg[0] == '-') {
      if (std::find(kValued.begin(), kValued.end(), arg) != kValued.end()) ++i;
      continue;
    }
    const std::vector<CLI::App*> subs = current->get_subcommands({});
    if (subs.empty()) return std::nullopt;  // a leaf command: the rest are its arguments
    CLI::App* next = nullptr;
    UnknownCommand unknown{path, arg, {}};
    for (CLI::App* sub : subs) {
      if (sub->check_name(arg)) next = sub;
      unknown.names.push_back(sub->get_name());
      for (const std::string& alias : sub->get_aliases()) unknown.names.push_back(alias);
    }
    if (next == nullptr) return unknown;
    current = next;
    path += " " + next->get_name();
  }
  return std::nullopt;
}

struct Args {
  std::string endpoints = "127.0.0.1:2379";
  std::string format = "simple";
  std::string command_timeout = "5s";
  std::string curve_key_file, curve_server_key, curve_out;  // CURVE (client/curve_options.h)
  // put / get / del / ls / watch
  std::string key, value, lease_text, dir, value_file;
  bool interactive = false;  // txn -i
  bool prefix = false, keys_only = false, count_only = false, serializable = false;
  bool prev_kv = false;
  std::string range_end, sort_by, order;             // get KEY [RANGE_END]
  bool from_key = false, value_only = false, hex = false, once = false;
  int64_t rev = 0, limit = 0;
  // lease / member / compaction / snapshot
  int64_t ttl = 0;
  std::vector<std::pair<std::string, std::string>> grant_puts;  // lease grant --put KEY VALUE
  std::string id_text, name, file;
  std::vector<std::string> peer_urls;
  bool learner = false, with_keys = false;
  // log collection
  std::string collector, app, topic;
  // users: --user NAME[:PASSWORD], --password
  std::string user, password;
  corral::cli::AuthArgs auth;
};

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"corralctl: talk to a corral cluster"};
  app.set_version_flag("--version", std::string("corralctl version: ") + CORRAL_VERSION);
  app.require_subcommand(1);
  // Global flags (-w, --endpoints) may also follow the command, as in etcdctl.
  app.fallthrough();
  app.add_option("--endpoints", a.endpoints, "comma-separated member client endpoints")
      ->envname("CORRALCTL_ENDPOINTS")
      ->capture_default_str();
  app.add_option("-w,--write-out", a.format, "output format: simple, json or table")
      ->check(CLI::IsMember({"simple", "json", "table"}))
      ->capture_default_str();
  app.add_option("--command-timeout", a.command_timeout, "deadline of each request (Go duration)")
      ->capture_default_str();
  app.add_option("--curve-key-file", a.curve_key_file, "this client's CURVE key pair (curve keygen), for members with CURVE on");
  app.add_option("--curve-server-key", a.curve_server_key,
                 "the members' CURVE public keys: .pub files or Z85, comma-separated, one for all or one per endpoint");
  auto* curve = app.add_subcommand("curve", "curve keygen --out NAME");
  curve->require_subcommand(1);
  auto* curve_keygen = curve->add_subcommand("keygen", "keygen --out NAME: write a key pair to NAME.key (0600) and NAME.pub");
  curve_keygen->add_option("--out", a.curve_out, "file name without .key/.pub")->required();
  app.add_option("--user", a.user, "run as this user: NAME[:PASSWORD] (password prompted for when absent)");
  app.add_option("--password", a.password, "the password of --user");

  auto* put = app.add_subcommand("put", "put KEY [VALUE]: the value from the argument, --from-file, or stdin");
  put->add_option("key", a.key)->required();
  auto* value_arg = put->add_option("value", a.value, "the value (omitted: read from stdin, as etcdctl does)");
  put->add_option("--from-file", a.value_file, "read the value from this file (any size, any bytes)")
      ->excludes(value_arg);
  put->add_option("--lease", a.lease_text, "attach to this lease (hex id)");
  put->add_flag("--prev-kv", a.prev_kv, "print the previous key-value");

  auto* get = app.add_subcommand("get", "get KEY [RANGE_END]: one key, or the keys in [KEY, RANGE_END)");
  get->add_option("key", a.key)->required();
  get->add_option("range_end", a.range_end, "end of the range, not included");
  get->add_flag("--prefix", a.prefix, "every key with this prefix");
  get->add_flag("--from-key", a.from_key, "every key from KEY on (byte order)");
  get->add_option("--sort-by", a.sort_by,
                  "KEY, CREATE, MODIFY, VALUE or VERSION; sorts the keys returned (the first --limit in key "
                  "order), not the whole range: the server returns keys in key order");
  get->add_option("--order", a.order, "ASCEND or DESCEND (alone: by key)");
  get->add_flag("--print-value-only", a.value_only, "values without keys (simple format)");
  get->add_flag("--hex", a.hex, "keys and values as \\xNN bytes (simple format)");
  get->add_option("--rev", a.rev, "at this revision (0: the latest)")->check(at_least(0, "a revision"));
  get->add_option("--limit", a.limit, "at most this many keys (0: no limit)")->check(at_least(0, "a count"));
  get->add_flag("--keys-only", a.keys_only, "keys without values");
  get->add_flag("--count-only", a.count_only, "only the number of keys");
  get->add_flag("--consistency-serializable,--serializable", a.serializable,
                "serve from the member asked, possibly stale");

  auto* del = app.add_subcommand("del", "del KEY");
  del->add_option("key", a.key)->required();
  del->add_flag("--prefix", a.prefix, "every key with this prefix");
  del->add_flag("--prev-kv", a.prev_kv, "print the deleted key-values");

  auto* ls = app.add_subcommand("ls", "ls DIR: direct children of a /-separated directory");
  ls->add_option("dir", a.dir)->required();
  ls->add_option("--rev", a.rev, "at this revision (0: the latest)")->check(at_least(0, "a revision"));

  auto* watch = app.add_subcommand("watch", "watch KEY: print events until interrupted");
  watch->add_option("key", a.key)->required();
  watch->add_flag("--prefix", a.prefix, "every key with this prefix");
  watch->add_option("--rev", a.rev, "from this revision (0: from now)")->check(at_least(0, "a revision"));
  watch->add_flag("--prev-kv", a.prev_kv, "include previous key-values");
  watch->add_flag("--print-value-only", a.value_only, "values without keys (simple format)");
  watch->add_flag("--hex", a.hex, "keys and values as \\xNN bytes (simple format)");

  auto* lease = app.add_subcommand("lease", "lease grant|keepalive|revoke|list|ttl");
  lease->require_subcommand(1);
  lease->fallthrough();
  auto* grant = lease->add_subcommand("grant", "grant TTL (seconds)");
  grant->add_option("ttl", a.ttl)->required()->check(CLI::Range(int64_t{1}, int64_t{30} * 24 * 3600, "TTL in seconds"));
  grant->add_option("--put", a.grant_puts,
                    "KEY VALUE: put this key with the new lease, in the same revision (repeatable; "
                    "all or nothing)")
      ->expected(1, 128)
      ->type_size(2);
  auto* keepalive = lease->add_subcommand("keepalive", "keepalive ID: refresh until interrupted (alias keep-alive)");
  keepalive->alias("keep-alive");
  keepalive->add_option("id", a.id_text)->required();
  keepalive->add_flag("--once", a.once, "refresh once and exit");
  auto* revoke = lease->add_subcommand("revoke", "revoke ID");
  revoke->add_option("id", a.id_text)->required();
  auto* lease_list = lease->add_subcommand("list", "list leases");
  auto* lease_ttl = lease->add_subcommand("ttl", "ttl ID (alias timetolive)");
  lease_ttl->alias("timetolive");
  lease_ttl->add_option("id", a.id_text)->required();
  lease_ttl->add_flag("--keys", a.with_keys, "list the keys attached");

  auto* member = app.add_subcommand("member", "member list|add|remove|promote");
  member->require_subcommand(1);
  member->fallthrough();
  auto* member_list = member->add_subcommand("list", "list members");
  auto* member_add = member->add_subcommand("add", "add NAME --peer-urls URL,...");
  member_add->add_option("name", a.name)->required();
  member_add->add_option("--peer-urls", a.peer_urls, "peer endpoints")->required()->delimiter(',');
  member_add->add_flag("--learner", a.learner, "add as a non-voting learner");
  auto* member_remove = member->add_subcommand("remove", "remove ID");
  member_remove->add_option("id", a.id_text)->required();
  auto* member_promote = member->add_subcommand("promote", "promote ID (a learner)");
  member_promote->add_option("id", a.id_text)->required();

  auto* move_leader = app.add_subcommand("move-leader", "move-leader ID");
  move_leader->add_option("id", a.id_text)->required();

  auto* endpoint = app.add_subcommand("endpoint", "endpoint status|health|hashkv");
  endpoint->require_subcommand(1);
  endpoint->fallthrough();
  auto* ep_status = endpoint->add_subcommand("status", "status of every endpoint");
  auto* ep_health = endpoint->add_subcommand("health", "health of every endpoint");
  corral::cli::HashKvArgs hashkv_args;
  auto* ep_hashkv = corral::cli::add_hashkv_command(*endpoint, hashkv_args);
  corral::cli::AlarmArgs alarm_args;
  auto alarm = corral::cli::add_alarm_commands(app, alarm_args);

  auto* compaction = app.add_subcommand("compaction", "compaction REV");
  compaction->add_option("rev", a.rev, "compact history before this revision")
      ->required()
      ->check(at_least(1, "a revision"));

  auto* txn = app.add_subcommand(
      "txn",
      "txn [-i]: read compares, a blank line, success ops, a blank line and failure ops from stdin "
      "(etcdctl's syntax)");
  txn->add_flag("-i,--interactive", a.interactive, "prompt for each section");

  auto* defrag = app.add_subcommand(
      "defrag", "defrag: rewrite every endpoint's key-space tables without deleted data (after delete and compaction)");

  auto* snapshot = app.add_subcommand("snapshot", "snapshot save|status|restore FILE");
  snapshot->require_subcommand(1);
  snapshot->fallthrough();
  auto* snap_save = snapshot->add_subcommand("save", "save FILE: the state of the member answering, with a SHA-256");
  snap_save->add_option("file", a.file)->required();
  corral::cli::SnapshotArgs snapshot_args;
  const corral::cli::SnapshotCommands snapshot_local = corral::cli::add_snapshot_commands(*snapshot, snapshot_args);

  corral::cli::ConcurrencyArgs concurrency_args;
  const corral::cli::ConcurrencyCommands concurrency = corral::cli::add_concurrency_commands(app, concurrency_args);

  auto* agents = app.add_subcommand("agents", "agents: every registered agent, its lease and its tasks");
  auto* tasks = app.add_subcommand("tasks", "tasks: every stream, its collector and its progress");
  tasks->add_option("--collector", a.collector, "only the tasks this collector holds");
  tasks->add_option("--app", a.app, "only this app's streams");
  tasks->add_option("--topic", a.topic, "only this topic's streams");
  auto* collector = app.add_subcommand("collector", "collector drain|undrain ID");
  collector->require_subcommand(1);
  collector->fallthrough();
  auto* drain = collector->add_subcommand("drain", "drain ID: its tasks move away, it gets no new one");
  drain->add_option("id", a.collector)->required();
  auto* undrain = collector->add_subcommand("undrain", "undrain ID: it can be given tasks again");
  undrain->add_option("id", a.collector)->required();
  auto* rebalance = app.add_subcommand("rebalance", "rebalance: one balancing pass over the collectors");
  corral::cli::add_auth_commands(app, a.auth);

  auto* completion = app.add_subcommand(
      "completion", "completion bash: print a bash completion script of corralctl's commands and flags");
  std::string completion_shell;
  completion->add_option("shell", completion_shell, "the shell: bash")->required()->check(CLI::IsMember({"bash"}));
  auto* help = app.add_subcommand(
      "help", "help [COMMAND...]: a command's usage, its arguments and flags, an example and the exit codes");
  std::vector<std::string> help_words;
  help->add_option("command", help_words, "the command, e.g. snapshot restore");
  corral::cli::add_help_texts(app);

  std::vector<char*> arg_words(argv, argv + argc);
  const std::vector<std::string> lock_command =
      corral::cli::split_lock_command(arg_words, {"--endpoints", "-w", "--write-out", "--command-timeout"});
  argc = static_cast<int>(arg_words.size());
  argv = arg_words.data();

  if (std::optional<UnknownCommand> unknown = find_unknown_command(app, argc, argv)) {
    std::fprintf(stderr, "Error: unknown command \"%s\" for \"%s\"\n", unknown->word.c_str(), unknown->path.c_str());
    const std::string near = corral::cli::nearest(unknown->word, unknown->names);
    if (!near.empty()) std::fprintf(stderr, "Did you mean this?\n\t%s\n", near.c_str());
    std::fprintf(stderr, "Run '%s --help' for the commands.\n", unknown->path.c_str());
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  if (*curve_keygen) return corral::cli::run_curve_keygen(a.curve_out);
  if (*completion) {
    std::cout << corral::cli::bash_completion(app);
    return kExitOk;
  }
  if (*help) {
    CLI::App* target = corral::cli::find_command(app, help_words);
    if (target == nullptr) {
      std::fprintf(stderr, "Error: no command \"%s\"; run 'corralctl --help' for the commands\n",
                   CLI::detail::join(help_words, " ").c_str());
      return kExitUsage;
    }
    std::cout << target->help();
    return kExitOk;
  }

  const Format format = a.format == "json"    ? Format::kJson
                        : a.format == "table" ? Format::kTable
                                              : Format::kSimple;
  Result<std::chrono::microseconds> timeout = parse_duration(a.command_timeout);
  if (!timeout.ok() || timeout->count() < 1000) {
    std::fprintf(stderr, "Error: --command-timeout: %s\n",
                 timeout.ok() ? "must be at least 1ms" : timeout.error().message.c_str());
    return kExitUsage;
  }
  std::optional<uint64_t> id;
  if (!a.id_text.empty()) {
    id = parse_hex_id(a.id_text);
    if (!id) {
      std::fprintf(stderr, "Error: '%s' is not a hexadecimal id\n", a.id_text.c_str());
      return kExitUsage;
    }
  }
  int64_t lease_id = 0;
  if (!a.lease_text.empty()) {
    std::optional<uint64_t> l = parse_hex_id(a.lease_text);
    if (!l) {
      std::fprintf(stderr, "Error: --lease '%s' is not a hexadecimal id\n", a.lease_text.c_str());
      return kExitUsage;
    }
    lease_id = static_cast<int64_t>(*l);
  }
  if (!usable_id(*tasks ? "--collector" : "collector", a.collector) || !usable_id("--app", a.app) ||
      !usable_id("--topic", a.topic)) {
    return kExitUsage;
  }

  // Local commands: no cluster involved.
  if (*snapshot_local.status || *snapshot_local.restore) {
    Printer local_out(format, std::cout);
    return *snapshot_local.status ? corral::cli::run_snapshot_status(snapshot_args, local_out)
                                  : corral::cli::run_snapshot_restore(snapshot_args, local_out);
  }

  // Signals are taken with sigtimedwait by long-running commands; block them
  // before the client's thread exists so that it inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Options options;
  if (!a.user.empty()) {
    auto [name, password] = corral::cli::split_user(a.user);
    if (!password && !a.password.empty()) password = a.password;
    if (!password) password = corral::cli::read_password("Password: ");
    if (name.empty() || !password) {
      std::fprintf(stderr, "Error: --user needs a name and a password (NAME:PASSWORD, --password or the prompt)\n");
      return kExitUsage;
    }
    options.user = name;
    options.password = *password;
  }
  options.endpoints = CLI::detail::split(a.endpoints, ',');
  options.request_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout.value());
  if (std::string bad = corral::client::apply_curve_flags(a.curve_key_file, a.curve_server_key, options); !bad.empty()) {
    std::fprintf(stderr, "Error: %s\n", bad.c_str());
    return kExitUsage;
  }
  Result<std::unique_ptr<Client>> connected = Client::connect(options);
  if (!connected.ok()) {
    std::fprintf(stderr, "Error: %s\n", to_string(connected.error()).c_str());
    return kExitUsage;
  }
  Client& client = *connected.value();
  Printer out(format, std::cout);
  explain_no_member = [&client, &options] {
    return corral::cli::explain(corral::cli::probe_endpoints(client, options.endpoints));
  };
  if (corral::cli::auth_command_given(a.auth)) return corral::cli::run_auth_command(client, a.auth, fail);

  if (*put) {
    PutRequest r;
    r.key = a.key;
    if (!a.value_file.empty()) {
      Result<std::string> v = read_value_file(a.value_file);
      if (!v.ok()) return fail_local(v.error());
      r.value = std::move(v).value();
    } else if (put->count("value") > 0) {
      r.value = a.value;
    } else {
      Result<std::string> v = read_all(std::cin, "the value on stdin");
      if (!v.ok()) return fail_local(v.error());
      r.value = std::move(v).value();
    }
    r.lease = lease_id;
    r.prev_kv = a.prev_kv;
    auto res = client.call(r);
    if (!res.ok()) return fail_lease(res.error(), lease_id);
    out.put(res.value());
  } else if (*txn) {
    Result<TxnRequest> t = read_txn(a.interactive);
    if (!t.ok()) {
      std::fprintf(stderr, "Error: %s\n", to_string(t.error()).c_str());
      return t.error().code == ErrorCode::kBadRequest ? kExitUsage : kExitLocal;
    }
    auto res = client.txn(std::move(t).value());
    if (!res.ok()) return fail(res.error());
    print_txn(out, res.value());
  } else if (*get) {
    if (static_cast<int>(a.prefix) + static_cast<int>(a.from_key) + static_cast<int>(!a.range_end.empty()) > 1) {
      std::fprintf(stderr, "Error: get: --prefix, --from-key and RANGE_END exclude each other\n");
      return kExitUsage;
    }
    std::optional<corral::cli::SortSpec> sort = corral::cli::parse_sort(a.sort_by, a.order);
    if (!sort) {
      std::fprintf(stderr,
                   "Error: get: --sort-by takes KEY, CREATE, MODIFY, VALUE or VERSION, --order ASCEND or "
                   "DESCEND; got '%s' and '%s'\n",
                   a.sort_by.c_str(), a.order.c_str());
      return kExitUsage;
    }
    RangeRequest r;
    r.key = a.key;
    if (a.prefix) r.range_end = prefix_range_end(a.key);
    if (a.from_key) r.range_end = std::string(1, '\0');
    if (!a.range_end.empty()) r.range_end = a.range_end;
    r.revision = a.rev;
    r.limit = a.limit;
    r.keys_only = a.keys_only;
    r.count_only = a.count_only;
    r.serializable = a.serializable;
    auto res = client.call(r);
    if (!res.ok()) return fail(res.error());
    corral::cli::sort_kvs(res->kvs, *sort);
    out.set_simple_form(a.value_only, a.hex);
    out.range(res.value(), a.count_only);
  } else if (*del) {
    DeleteRequest r;
    r.key = a.key;
    if (a.prefix) r.range_end = prefix_range_end(a.key);
    r.prev_kv = a.prev_kv;
    auto res = client.call(r);
    if (!res.ok()) return fail(res.error());
    out.del(res.value());
  } else if (*ls) {
    ListRequest r;
    r.dir = a.dir;
    r.revision = a.rev;
    auto res = client.call(r);
    if (!res.ok()) return fail(res.error());
    out.list(res.value());
  } else if (*watch) {
    WatchOptions w;
    w.key = a.key;
    if (a.prefix) w.range_end = prefix_range_end(a.key);
    w.start_revision = a.rev;
    w.prev_kv = a.prev_kv;
    out.set_simple_form(a.value_only, a.hex);
    std::mutex mu;
    std::optional<Error> ended;
    WatchHandle handle = client.watch(w, [&](const WatchUpdate& u) {
      std::lock_guard lock(mu);
      if (u.error) {
        ended = u.error;
        return;
      }
      for (const WatchEvent& e : u.events) out.event(e);
      std::cout.flush();
    });
    while (!interrupted_within(kSignalPollMs)) {
      std::lock_guard lock(mu);
      if (ended) break;
    }
    handle.cancel();
    if (ended) return fail(*ended);
  } else if (*grant) {
    std::vector<LeaseKeyPut> puts;
    for (auto& [k, v] : a.grant_puts) puts.push_back({k, v});
    auto res = puts.empty() ? client.lease_grant(a.ttl) : client.lease_grant_with_keys(a.ttl, std::move(puts));
    if (!res.ok()) return fail(res.error());
    out.lease_grant(res.value());
  } else if (*keepalive) {
    while (true) {
      auto res = client.lease_keepalive_once(static_cast<int64_t>(*id));
      if (!res.ok()) return fail_lease(res.error(), static_cast<int64_t>(*id));
      if (res->ttl_seconds <= 0) {
        return fail(make_error(ErrorCode::kLeaseNotFound, "lease " + hex_id(*id) + " expired"));
      }
      out.lease_keepalive(res.value());
      std::cout.flush();
      if (a.once) break;
      if (interrupted_within(keepalive_interval(res->ttl_seconds).count())) break;
    }
  } else if (*revoke) {
    auto res = client.lease_revoke(static_cast<int64_t>(*id));
    if (!res.ok()) return fail_lease(res.error(), static_cast<int64_t>(*id));
    out.line("lease " + hex_id(*id) + " revoked");
  } else if (*lease_list) {
    auto res = client.lease_list();
    if (!res.ok()) return fail(res.error());
    out.lease_list(res.value());
  } else if (*lease_ttl) {
    auto res = client.lease_ttl(static_cast<int64_t>(*id), a.with_keys);
    if (!res.ok()) return fail_lease(res.error(), static_cast<int64_t>(*id));
    out.lease_ttl(res.value(), a.with_keys);
  } else if (*member_list) {
    auto res = client.member_list();
    if (!res.ok()) return fail(res.error());
    out.members(res.value());
  } else if (*member_add) {
    auto res = client.member_add(a.name, a.peer_urls, a.learner);
    if (!res.ok()) return fail(res.error());
    out.line("Member " + hex_id(res->added.id) + " added to cluster " + hex_id(res->header.cluster_id));
    out.members(res.value());
    if (format != Format::kJson) out.line(corral::cli::member_add_hint(res.value()));
  } else if (*member_remove) {
    auto res = client.member_remove(*id);
    if (!res.ok()) return fail_member(res.error(), *id);
    out.line("Member " + hex_id(*id) + " removed from cluster");
  } else if (*member_promote) {
    auto res = client.member_promote(*id);
    if (!res.ok()) return fail_member(res.error(), *id);
    out.line("Member " + hex_id(*id) + " promoted in cluster");
  } else if (*move_leader) {
    auto res = client.move_leader(*id);
    if (!res.ok()) return fail_member(res.error(), *id);
    out.line("Leadership transferred to " + hex_id(*id));
  } else if (*concurrency.lock) {
    return corral::cli::run_lock(client, concurrency_args, lock_command, interrupted_within,
                                 exit_code_for);
  } else if (*concurrency.elect) {
    return corral::cli::run_elect(client, concurrency_args, out, interrupted_within, exit_code_for);
  } else if (*alarm.list || *alarm.disarm) {
    return corral::cli::run_alarm(client, alarm.list->parsed(), alarm_args, out, fail);
  } else if (*ep_hashkv) {
    return corral::cli::run_hashkv(client, options.endpoints, hashkv_args, out, exit_code_for);
  } else if (*ep_status || *ep_health) {
    int rc = kExitOk;
    std::vector<EndpointReport> reports;
    for (const std::string& ep : options.endpoints) {
      EndpointReport rep;
      rep.endpoint = ep;
      const auto start = std::chrono::steady_clock::now();
      auto res = client.status_of(ep);
      rep.took_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                                start)
                        .count();
      if (res.ok()) {
        rep.status = res.value();
        rep.healthy = res->leader != 0 && res->errors.empty();
        if (!rep.healthy) rep.error = res->leader == 0 ? "no leader" : res->errors.front();
      } else {
        rep.error = to_string(res.error());
      }
      if (!rep.healthy) rc = res.ok() ? kExitServerError : exit_code_for(res.error());
      reports.push_back(std::move(rep));
    }
    if (*ep_status) {
      out.endpoint_status(reports);
    } else {
      out.endpoint_health(reports);
    }
    return rc;
  } else if (*compaction) {
    auto res = client.compact(a.rev);
    if (!res.ok()) return fail(res.error());
    out.line("compacted revision " + std::to_string(a.rev));
  } else if (*defrag) {
    // Member by member, as etcdctl: each has its own tables.
    CallOptions co;
    co.timeout = std::chrono::milliseconds(kSnapshotTimeoutMs);
    int rc = kExitOk;
    for (const std::string& ep : options.endpoints) {
      auto res = client.defragment_of(ep, co);
      if (!res.ok()) {
        out.line("Failed to defragment " + ep + ": " + to_string(res.error()));
        rc = exit_code_for(res.error());
        continue;
      }
      out.line("Defragmented " + ep + ": " + std::to_string(res->db_size_bytes_before) + " -> " +
               std::to_string(res->db_size_bytes_after) + " bytes");
    }
    return rc;
  } else if (*snap_save) {
    CallOptions co;
    co.timeout = std::chrono::milliseconds(kSnapshotTimeoutMs);
    auto res = client.snapshot_save(a.file, co);
    if (!res.ok()) return fail(res.error());
    out.line("Snapshot saved at " + a.file + " (" + std::to_string(res.value()) + " bytes)");
  } else if (*agents) {
    return show_agents(client, out);
  } else if (*tasks) {
    return show_tasks(client, out, corral::cli::TaskFilter{a.collector, a.app, a.topic});
  } else if (*drain || *undrain) {
    return change_drain(client, out, a.collector, drain->parsed());
  } else if (*rebalance) {
    return request_rebalance(client, out);
  }
  return kExitOk;
}
