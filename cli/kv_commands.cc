#include "cli/kv_commands.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>

#include "cli/range_view.h"
#include "cli/txn_text.h"

namespace corral::cli {

using namespace corral::client;

namespace {

// A value read from a file or stdin (put) or a txn read from stdin is read
// up to this; past it the command fails before sending anything (members
// refuse far smaller requests anyway, with tooLarge).
constexpr size_t kMaxInputBytes = size_t{64} << 20;

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
  TxnTextParser parser;
  using Section = TxnTextParser::Section;
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

void add_put(CLI::App& app, KvArgs& a, KvCommands& c) {
  c.put = app.add_subcommand("put", "put KEY [VALUE]: the value from the argument, --from-file, or stdin");
  c.put->add_option("key", a.key)->required();
  auto* value_arg = c.put->add_option("value", a.value, "the value (omitted: read from stdin, as etcdctl does)");
  c.put->add_option("--from-file", a.value_file, "read the value from this file (any size, any bytes)")
      ->excludes(value_arg);
  c.put->add_option("--lease", a.lease_text, "attach to this lease (hex id)");
  c.put->add_flag("--prev-kv", a.prev_kv, "print the previous key-value");
}

void add_get(CLI::App& app, KvArgs& a, KvCommands& c) {
  auto* get = c.get = app.add_subcommand("get", "get KEY [RANGE_END]: one key, or the keys in [KEY, RANGE_END)");
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
}

void add_del_ls_watch(CLI::App& app, KvArgs& a, KvCommands& c) {
  c.del = app.add_subcommand("del", "del KEY");
  c.del->add_option("key", a.key)->required();
  c.del->add_flag("--prefix", a.prefix, "every key with this prefix");
  c.del->add_flag("--prev-kv", a.prev_kv, "print the deleted key-values");

  c.ls = app.add_subcommand("ls", "ls DIR: direct children of a /-separated directory");
  c.ls->add_option("dir", a.dir)->required();
  c.ls->add_option("--rev", a.rev, "at this revision (0: the latest)")->check(at_least(0, "a revision"));

  auto* watch = c.watch = app.add_subcommand("watch", "watch KEY: print events until interrupted");
  watch->add_option("key", a.key)->required();
  watch->add_flag("--prefix", a.prefix, "every key with this prefix");
  watch->add_option("--rev", a.rev, "from this revision (0: from now)")->check(at_least(0, "a revision"));
  watch->add_flag("--prev-kv", a.prev_kv, "include previous key-values");
  watch->add_flag("--print-value-only", a.value_only, "values without keys (simple format)");
  watch->add_flag("--hex", a.hex, "keys and values as \\xNN bytes (simple format)");
}

int run_put(const CLI::App& put, const KvArgs& a, CommandContext& ctx) {
  PutRequest r;
  r.key = a.key;
  if (!a.value_file.empty()) {
    Result<std::string> v = read_value_file(a.value_file);
    if (!v.ok()) return fail_local(v.error());
    r.value = std::move(v).value();
  } else if (put.count("value") > 0) {
    r.value = a.value;
  } else {
    Result<std::string> v = read_all(std::cin, "the value on stdin");
    if (!v.ok()) return fail_local(v.error());
    r.value = std::move(v).value();
  }
  r.lease = a.lease;
  r.prev_kv = a.prev_kv;
  auto res = ctx.client.call(r);
  if (!res.ok()) return fail_lease(res.error(), a.lease);
  ctx.out.put(res.value());
  return kExitOk;
}

int run_txn(const KvArgs& a, CommandContext& ctx) {
  Result<TxnRequest> t = read_txn(a.interactive);
  if (!t.ok()) {
    std::fprintf(stderr, "Error: %s\n", to_string(t.error()).c_str());
    return t.error().code == ErrorCode::kBadRequest ? kExitUsage : kExitLocal;
  }
  auto res = ctx.client.txn(std::move(t).value());
  if (!res.ok()) return fail(res.error());
  print_txn(ctx.out, res.value());
  return kExitOk;
}

int run_get(const KvArgs& a, CommandContext& ctx) {
  if (static_cast<int>(a.prefix) + static_cast<int>(a.from_key) + static_cast<int>(!a.range_end.empty()) > 1) {
    std::fprintf(stderr, "Error: get: --prefix, --from-key and RANGE_END exclude each other\n");
    return kExitUsage;
  }
  std::optional<SortSpec> sort = parse_sort(a.sort_by, a.order);
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
  auto res = ctx.client.call(r);
  if (!res.ok()) return fail(res.error());
  sort_kvs(res->kvs, *sort);
  ctx.out.set_simple_form(a.value_only, a.hex);
  ctx.out.range(res.value(), a.count_only);
  return kExitOk;
}

int run_del(const KvArgs& a, CommandContext& ctx) {
  DeleteRequest r;
  r.key = a.key;
  if (a.prefix) r.range_end = prefix_range_end(a.key);
  r.prev_kv = a.prev_kv;
  auto res = ctx.client.call(r);
  if (!res.ok()) return fail(res.error());
  ctx.out.del(res.value());
  return kExitOk;
}

int run_ls(const KvArgs& a, CommandContext& ctx) {
  ListRequest r;
  r.dir = a.dir;
  r.revision = a.rev;
  auto res = ctx.client.call(r);
  if (!res.ok()) return fail(res.error());
  ctx.out.list(res.value());
  return kExitOk;
}

int run_watch(const KvArgs& a, CommandContext& ctx) {
  WatchOptions w;
  w.key = a.key;
  if (a.prefix) w.range_end = prefix_range_end(a.key);
  w.start_revision = a.rev;
  w.prev_kv = a.prev_kv;
  ctx.out.set_simple_form(a.value_only, a.hex);
  std::mutex mu;
  std::optional<Error> ended;
  WatchHandle handle = ctx.client.watch(w, [&](const WatchUpdate& u) {
    std::lock_guard lock(mu);
    if (u.error) {
      ended = u.error;
      return;
    }
    for (const WatchEvent& e : u.events) ctx.out.event(e);
    std::cout.flush();
  });
  while (!interrupted_within(kSignalPollMs)) {
    std::lock_guard lock(mu);
    if (ended) break;
  }
  handle.cancel();
  if (ended) return fail(*ended);
  return kExitOk;
}

}  // namespace

KvCommands add_kv_commands(CLI::App& app, KvArgs& args) {
  KvCommands c;
  add_put(app, args, c);
  add_get(app, args, c);
  add_del_ls_watch(app, args, c);
  return c;
}

void add_txn_command(CLI::App& app, KvArgs& args, KvCommands& c) {
  c.txn = app.add_subcommand(
      "txn",
      "txn [-i]: read compares, a blank line, success ops, a blank line and failure ops from stdin "
      "(etcdctl's syntax)");
  c.txn->add_flag("-i,--interactive", args.interactive, "prompt for each section");
}

bool check_kv_args(KvArgs& args) {
  bool bad = false;
  std::optional<uint64_t> lease = hex_id_arg(args.lease_text, "--lease ", bad);
  if (lease) args.lease = static_cast<int64_t>(*lease);
  return !bad;
}

int run_kv(const KvCommands& c, const KvArgs& args, CommandContext& ctx) {
  if (*c.put) return run_put(*c.put, args, ctx);
  if (c.txn != nullptr && *c.txn) return run_txn(args, ctx);
  if (*c.get) return run_get(args, ctx);
  if (*c.del) return run_del(args, ctx);
  if (*c.ls) return run_ls(args, ctx);
  return run_watch(args, ctx);
}

}  // namespace corral::cli
