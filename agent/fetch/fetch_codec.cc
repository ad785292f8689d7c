#include "agent/fetch/fetch_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstring>
#include <type_traits>

#include "schema/agent.capnp.h"
#include "schema/data_bytes.h"

namespace corral::agent::fetch {
namespace wire = corral::schema::agent;
namespace {

template <typename>
inline constexpr bool kAlwaysFalse = false;

capnp::Text::Reader as_text(const std::string& s) { return capnp::Text::Reader(s.data(), s.size()); }

std::string text_of(capnp::Text::Reader t) { return std::string(t.begin(), t.size()); }

std::string flatten(capnp::MallocMessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

void fill_fetch_response(wire::FetchResponse::Builder out, const FetchReply& r) {
  out.setId(r.id);
  out.setError(static_cast<wire::FetchError>(static_cast<uint16_t>(r.error)));
  out.setMessage(as_text(r.message));
  out.setFile(as_text(r.file));
  out.setOffset(r.offset);
  out.setData(schema::as_data(r.data));
  out.setNextFile(as_text(r.next_file));
  out.setNextOffset(r.next_offset);
  out.setEndBytes(r.end_bytes);
}

void fill_streams_response(wire::StreamsResponse::Builder out, const StreamsReply& r) {
  out.setId(r.id);
  auto list = out.initStreams(static_cast<unsigned>(r.streams.size()));
  for (unsigned i = 0; i < r.streams.size(); ++i) {
    const StreamInfo& s = r.streams[i];
    list[i].setName(as_text(s.name));
    auto paths = list[i].initPaths(static_cast<unsigned>(s.paths.size()));
    for (unsigned p = 0; p < s.paths.size(); ++p) paths.set(p, as_text(s.paths[p]));
    list[i].setFiles(s.files);
    list[i].setRetainedBytes(s.retained_bytes);
  }
}

// The bytes as Cap'n Proto words, copied only when misaligned or when their
// length is not whole words (the reader then sees the error).
struct Words {
  kj::Array<capnp::word> copy;
  kj::ArrayPtr<const capnp::word> words;
};

Words words_of(std::string_view bytes) {
  Words w;
  const size_t count = bytes.size() / sizeof(capnp::word);
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    w.words = kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(bytes.data()),
                                              count);
  } else {
    w.copy = kj::heapArray<capnp::word>(count);
    if (count > 0) std::memcpy(w.copy.begin(), bytes.data(), count * sizeof(capnp::word));
    w.words = w.copy.asPtr();
  }
  return w;
}

capnp::ReaderOptions reader_options(size_t word_count) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = word_count * 4 + 1024;
  options.nestingLimit = 16;
  return options;
}

FetchReply fetch_reply_of(wire::FetchResponse::Reader r) {
  FetchReply out;
  out.id = r.getId();
  const auto code = static_cast<uint16_t>(r.getError());
  // A newer source's unknown code is not ok: read it as unavailable.
  out.error = code <= static_cast<uint16_t>(FetchErrorCode::kUnavailable)
                  ? static_cast<FetchErrorCode>(code)
                  : FetchErrorCode::kUnavailable;
  out.message = text_of(r.getMessage());
  out.file = text_of(r.getFile());
  out.offset = r.getOffset();
  out.data = schema::as_string(r.getData());
  out.next_file = text_of(r.getNextFile());
  out.next_offset = r.getNextOffset();
  out.end_bytes = r.getEndBytes();
  return out;
}

StreamsReply streams_reply_of(wire::StreamsResponse::Reader r) {
  StreamsReply out;
  out.id = r.getId();
  for (auto s : r.getStreams()) {
    StreamInfo info;
    info.name = text_of(s.getName());
    for (auto p : s.getPaths()) info.paths.push_back(text_of(p));
    info.files = s.getFiles();
    info.retained_bytes = s.getRetainedBytes();
    out.streams.push_back(std::move(info));
  }
  return out;
}

}  // namespace

std::string encode_request(const AgentRequest& request) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<wire::AgentRequest>();
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, FetchRequest>) {
          auto f = root.initFetch();
          f.setId(r.id);
          f.setStream(as_text(r.stream));
          f.setFile(as_text(r.file));
          f.setOffset(r.offset);
          f.setCommittedFile(as_text(r.committed_file));
          f.setCommittedOffset(r.committed_offset);
          f.setMaxBytes(r.max_bytes);
        } else if constexpr (std::is_same_v<T, StreamsRequest>) {
          root.initStreams().setId(r.id);
        } else {
          static_assert(kAlwaysFalse<T>, "request kind without an encoder");
        }
      },
      request);
  return flatten(message);
}

std::string encode_response(const AgentResponse& response) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<wire::AgentResponse>();
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, FetchReply>) {
          fill_fetch_response(root.initFetch(), r);
        } else if constexpr (std::is_same_v<T, StreamsReply>) {
          fill_streams_response(root.initStreams(), r);
        } else {
          static_assert(kAlwaysFalse<T>, "response kind without an encoder");
        }
      },
      response);
  return flatten(message);
}

Result<AgentRequest> decode_request(std::string_view bytes) {
  if (bytes.size() > kMaxRequestBytes) {
    return make_fetch_error(FetchErrorCode::kTooLarge,
                            "request of " + std::to_string(bytes.size()) + " bytes is above " +
                                std::to_string(kMaxRequestBytes));
  }
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return make_fetch_error(FetchErrorCode::kBadRequest,
                            "request of " + std::to_string(bytes.size()) +
                                " bytes is not whole Cap'n Proto words");
  }
  Words w = words_of(bytes);
  try {
    capnp::FlatArrayMessageReader reader(w.words, reader_options(w.words.size()));
    auto root = reader.getRoot<wire::AgentRequest>();
    switch (root.which()) {
      case wire::AgentRequest::FETCH: {
        auto f = root.getFetch();
        FetchRequest out;
        out.id = f.getId();
        out.stream = text_of(f.getStream());
        out.file = text_of(f.getFile());
        out.offset = f.getOffset();
        out.committed_file = text_of(f.getCommittedFile());
        out.committed_offset = f.getCommittedOffset();
        out.max_bytes = f.getMaxBytes();
        return AgentRequest(std::move(out));
      }
      case wire::AgentRequest::STREAMS:
        return AgentRequest(StreamsRequest{root.getStreams().getId()});
    }
    return make_fetch_error(FetchErrorCode::kBadRequest, "request kind unknown to this source");
  } catch (const kj::Exception& e) {
    return make_fetch_error(FetchErrorCode::kBadRequest,
                            std::string("undecodable request: ") + e.getDescription().cStr());
  }
}

Result<AgentResponse> decode_response(std::string_view bytes) {
  if (bytes.size() > kMaxResponseBytes) {
    return make_fetch_error(FetchErrorCode::kBadResponse,
                            "response of " + std::to_string(bytes.size()) + " bytes is too large");
  }
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return make_fetch_error(FetchErrorCode::kBadResponse,
                            "response of " + std::to_string(bytes.size()) +
                                " bytes is not whole Cap'n Proto words");
  }
  Words w = words_of(bytes);
  try {
    capnp::FlatArrayMessageReader reader(w.words, reader_options(w.words.size()));
    auto root = reader.getRoot<wire::AgentResponse>();
    switch (root.which()) {
      case wire::AgentResponse::FETCH: return AgentResponse(fetch_reply_of(root.getFetch()));
      case wire::AgentResponse::STREAMS: return AgentResponse(streams_reply_of(root.getStreams()));
    }
    return make_fetch_error(FetchErrorCode::kBadResponse, "response kind unknown to this client");
  } catch (const kj::Exception& e) {
    return make_fetch_error(FetchErrorCode::kBadResponse,
                            std::string("undecodable response: ") + e.getDescription().cStr());
  }
}

Status validate(const FetchRequest& request) {
  auto bad = [](std::string what) { return make_fetch_error(FetchErrorCode::kBadRequest, what); };
  if (request.id == 0) return bad("id must not be 0");
  if (request.stream.empty() || request.stream.size() > kMaxStreamNameBytes) {
    return bad("stream must be 1.." + std::to_string(kMaxStreamNameBytes) + " bytes");
  }
  if (request.file.size() > kMaxFileIdBytes || request.committed_file.size() > kMaxFileIdBytes) {
    return bad("file ids must be at most " + std::to_string(kMaxFileIdBytes) + " bytes");
  }
  if (request.max_bytes == 0) return bad("maxBytes must be positive");
  return {};
}

FetchReply error_reply(uint64_t id, FetchErrorCode code, std::string message) {
  FetchReply r;
  r.id = id;
  r.error = code;
  r.message = std::move(message);
  return r;
}

}  // namespace corral::agent::fetch
