#include "cli/txn_text.h"

#include <cctype>
#include <charconv>
#include <functional>
#include <optional>

#include "client/txn.h"

namespace corral::cli {

using client::Compare;
using client::ErrorCode;
using client::make_error;
using client::Result;
using client::TxnOp;

namespace {

client::Error bad(std::string message) { return make_error(ErrorCode::kBadRequest, std::move(message)); }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A double-quoted word starting at line[pos] == '"'; pos ends past the quote.
Result<std::string> read_quoted(std::string_view line, size_t& pos) {
  std::string out;
  for (++pos; pos < line.size(); ++pos) {
    const char c = line[pos];
    if (c == '"') {
      ++pos;
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++pos == line.size()) break;
    switch (line[pos]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case 'x': {
        const int hi = pos + 1 < line.size() ? hex_digit(line[pos + 1]) : -1;
        const int lo = pos + 2 < line.size() ? hex_digit(line[pos + 2]) : -1;
        if (hi < 0 || lo < 0) return bad("\\x needs two hexadecimal digits");
        out += static_cast<char>(hi * 16 + lo);
        pos += 2;
        break;
      }
      default:
        return bad(std::string("unknown escape \\") + line[pos]);
    }
  }
  return bad("unclosed double quote");
}

// One word at line[pos] (not a space): quoted or bare up to a space or `stop`.
Result<std::string> read_word(std::string_view line, size_t& pos, char stop = '\0') {
  if (line[pos] == '"') return read_quoted(line, pos);
  if (line[pos] == '\'') {
    const size_t end = line.find('\'', pos + 1);
    if (end == std::string_view::npos) return bad("unclosed single quote");
    std::string out(line.substr(pos + 1, end - pos - 1));
    pos = end + 1;
    return out;
  }
  const size_t start = pos;
  while (pos < line.size() && !std::isspace(static_cast<unsigned char>(line[pos])) && line[pos] != stop) ++pos;
  return std::string(line.substr(start, pos - start));
}

void skip_spaces(std::string_view line, size_t& pos) {
  while (pos < line.size() && std::isspace(static_cast<unsigned char>(line[pos]))) ++pos;
}

Result<int64_t> parse_decimal(std::string_view text, const char* what) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) {
    return bad(std::string(what) + " '" + std::string(text) + "' is not a non-negative decimal number");
  }
  return v;
}

Result<Compare::Target> parse_target(std::string_view name) {
  if (name == "c" || name == "create") return Compare::Target::kCreate;
  if (name == "m" || name == "mod") return Compare::Target::kMod;
  if (name == "val" || name == "value") return Compare::Target::kValue;
  if (name == "ver" || name == "version") return Compare::Target::kVersion;
  if (name == "lease") return Compare::Target::kLease;
  return bad("unknown compare target '" + std::string(name) +
             "' (want c|create, m|mod, val|value, ver|version or lease)");
}

Result<Compare::Op> parse_op(std::string_view op) {
  if (op == "=" || op == "==") return Compare::Op::kEqual;
  if (op == "!=") return Compare::Op::kNotEqual;
  if (op == "<") return Compare::Op::kLess;
  if (op == ">") return Compare::Op::kGreater;
  return bad("unknown compare operator '" + std::string(op) + "' (want <, =, > or !=)");
}

// "--name=value" or "--name": the name and, if given, the value.
struct Flag {
  std::string name;
  std::optional<std::string> value;
};
Flag split_flag(const std::string& word) {
  const size_t eq = word.find('=');
  if (eq == std::string::npos) return {word, std::nullopt};
  return {word.substr(0, eq), word.substr(eq + 1)};
}

// An op's words after its verb: the positional arguments, and each
// --flag[=value] handed to `take`, which returns false for a flag the op does
// not know (the error is then `usage`) or sets `error` for a bad value.
using FlagTaker = std::function<bool(const Flag&, std::optional<client::Error>& error)>;
Result<std::vector<std::string>> split_op_words(const std::vector<std::string>& words, const std::string& usage,
                                                const FlagTaker& take) {
  std::vector<std::string> args;
  for (size_t i = 1; i < words.size(); ++i) {
    if (words[i].rfind("--", 0) != 0) {
      args.push_back(words[i]);
      continue;
    }
    std::optional<client::Error> error;
    if (!take(split_flag(words[i]), error)) return bad(usage + ", not '" + words[i] + "'");
    if (error) return *error;
  }
  return args;
}

Result<TxnOp> parse_put(const std::vector<std::string>& words) {
  client::PutRequest put;
  auto split = split_op_words(words, "put takes --lease=ID and --prev-kv",
                              [&](const Flag& f, std::optional<client::Error>& error) {
    if (f.name == "--lease" && f.value) {
      std::optional<uint64_t> id = parse_hex_id(*f.value);
      if (!id) error = bad("--lease '" + *f.value + "' is not a hexadecimal id");
      else put.lease = static_cast<int64_t>(*id);
    } else if (f.name == "--prev-kv" && !f.value) {
      put.prev_kv = true;
    } else {
      return false;
    }
    return true;
  });
  if (!split.ok()) return split.error();
  const std::vector<std::string>& args = split.value();
  if (args.size() != 2) return bad("put needs KEY VALUE, got " + std::to_string(args.size()) + " arguments");
  put.key = args[0];
  put.value = args[1];
  return client::op_put(std::move(put));
}

Result<TxnOp> parse_get(const std::vector<std::string>& words) {
  client::RangeRequest get;
  bool prefix = false;
  auto split = split_op_words(words, "get takes --prefix, --keys-only, --count-only, --limit=N and --rev=N",
                              [&](const Flag& f, std::optional<client::Error>& error) {
    if (f.name == "--prefix" && !f.value) {
      prefix = true;
    } else if (f.name == "--keys-only" && !f.value) {
      get.keys_only = true;
    } else if (f.name == "--count-only" && !f.value) {
      get.count_only = true;
    } else if ((f.name == "--limit" || f.name == "--rev") && f.value) {
      Result<int64_t> n = parse_decimal(*f.value, f.name.c_str());
      if (!n.ok()) error = n.error();
      else (f.name == "--limit" ? get.limit : get.revision) = n.value();
    } else {
      return false;
    }
    return true;
  });
  if (!split.ok()) return split.error();
  const std::vector<std::string>& args = split.value();
  if (args.size() != 1) return bad("get needs one KEY, got " + std::to_string(args.size()) + " arguments");
  get.key = args[0];
  if (prefix) get.range_end = client::prefix_range_end(get.key);
  return client::op_get(get.key, get);
}

Result<TxnOp> parse_del(const std::vector<std::string>& words) {
  client::DeleteRequest del;
  bool prefix = false;
  auto split = split_op_words(words, "del takes --prefix and --prev-kv",
                              [&](const Flag& f, std::optional<client::Error>&) {
    if (f.name == "--prefix" && !f.value) {
      prefix = true;
    } else if (f.name == "--prev-kv" && !f.value) {
      del.prev_kv = true;
    } else {
      return false;
    }
    return true;
  });
  if (!split.ok()) return split.error();
  const std::vector<std::string>& args = split.value();
  if (args.size() != 1) return bad("del needs one KEY, got " + std::to_string(args.size()) + " arguments");
  del.key = args[0];
  if (prefix) del.range_end = client::prefix_range_end(del.key);
  TxnOp op;
  op.op = std::move(del);
  return op;
}

}  // namespace

std::optional<uint64_t> parse_hex_id(std::string_view text) {
  if (text.rfind("0x", 0) == 0 || text.rfind("0X", 0) == 0) text.remove_prefix(2);
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<uint64_t>(d);
  }
  return v;
}

Result<std::vector<std::string>> split_words(std::string_view line) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (true) {
    skip_spaces(line, pos);
    if (pos == line.size()) return words;
    Result<std::string> w = read_word(line, pos);
    if (!w.ok()) return w.error();
    if (pos < line.size() && !std::isspace(static_cast<unsigned char>(line[pos]))) {
      return bad("a quoted word must be followed by a space");
    }
    words.push_back(std::move(w).value());
  }
}

Result<Compare> parse_compare(std::string_view line) {
  size_t pos = 0;
  skip_spaces(line, pos);
  const size_t open = line.find('(', pos);
  if (open == std::string_view::npos) return bad("a compare looks like mod(\"key\") > \"0\"");
  Result<Compare::Target> target = parse_target(line.substr(pos, open - pos));
  if (!target.ok()) return target.error();
  pos = open + 1;
  if (pos == line.size() || line[pos] == ')') return bad("the compare has no key");
  Result<std::string> key = read_word(line, pos, ')');
  if (!key.ok()) return key.error();
  if (pos == line.size() || line[pos] != ')') return bad("the key must be followed by ')'");
  ++pos;
  skip_spaces(line, pos);
  const size_t op_start = pos;
  while (pos < line.size() && std::string_view("<=>!").find(line[pos]) != std::string_view::npos) ++pos;
  Result<Compare::Op> op = parse_op(line.substr(op_start, pos - op_start));
  if (!op.ok()) return op.error();
  skip_spaces(line, pos);
  if (pos == line.size()) return bad("the compare has nothing to compare with");
  Result<std::string> value = read_word(line, pos);
  if (!value.ok()) return value.error();
  skip_spaces(line, pos);
  if (pos != line.size()) return bad("unexpected text after the compare: '" + std::string(line.substr(pos)) + "'");
  const std::string& v = value.value();
  switch (target.value()) {
    case Compare::Target::kValue:
      return client::compare_value(std::move(key).value(), op.value(), v);
    case Compare::Target::kLease: {
      std::optional<uint64_t> id = parse_hex_id(v);
      if (!id) return bad("lease '" + v + "' is not a hexadecimal id");
      return client::compare_lease(std::move(key).value(), op.value(), static_cast<int64_t>(*id));
    }
    case Compare::Target::kVersion: {
      Result<int64_t> n = parse_decimal(v, "version");
      if (!n.ok()) return n.error();
      return client::compare_version(std::move(key).value(), op.value(), n.value());
    }
    case Compare::Target::kCreate:
    case Compare::Target::kMod: {
      Result<int64_t> n = parse_decimal(v, "revision");
      if (!n.ok()) return n.error();
      return target.value() == Compare::Target::kCreate
                 ? client::compare_create_revision(std::move(key).value(), op.value(), n.value())
                 : client::compare_mod_revision(std::move(key).value(), op.value(), n.value());
    }
  }
  return bad("unknown compare target");
}

Result<TxnOp> parse_txn_op(std::string_view line) {
  Result<std::vector<std::string>> words = split_words(line);
  if (!words.ok()) return words.error();
  const std::vector<std::string>& w = words.value();
  if (w.empty()) return bad("empty op");
  if (w[0] == "put") return parse_put(w);
  if (w[0] == "get") return parse_get(w);
  if (w[0] == "del" || w[0] == "delete") return parse_del(w);
  return bad("unknown op '" + w[0] + "' (want put, get or del)");
}

client::Status TxnTextParser::feed(std::string_view line) {
  ++line_number_;
  const std::string where = "txn line " + std::to_string(line_number_) + ": ";
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > kMaxTxnLineBytes) {
    return bad(where + "longer than " + std::to_string(kMaxTxnLineBytes) + " bytes");
  }
  size_t pos = 0;
  skip_spaces(line, pos);
  if (pos == line.size()) {  // a blank line ends the section
    if (section_ != Section::kDone) section_ = static_cast<Section>(static_cast<int>(section_) + 1);
    return {};
  }
  switch (section_) {
    case Section::kCompares: {
      Result<Compare> c = parse_compare(line);
      if (!c.ok()) return bad(where + c.error().message);
      txn_.compare.push_back(std::move(c).value());
      return {};
    }
    case Section::kSuccess:
    case Section::kFailure: {
      Result<TxnOp> op = parse_txn_op(line);
      if (!op.ok()) return bad(where + op.error().message);
      (section_ == Section::kSuccess ? txn_.success : txn_.failure).push_back(std::move(op).value());
      return {};
    }
    case Section::kDone:
      break;
  }
  return bad(where + "text after the failure ops' blank line");
}

Result<client::TxnRequest> parse_txn_text(std::string_view text) {
  TxnTextParser parser;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (client::Status s = parser.feed(text.substr(start, end - start)); !s.ok()) return s.error();
    start = end + 1;
  }
  return parser.take();
}

}  // namespace corral::cli
