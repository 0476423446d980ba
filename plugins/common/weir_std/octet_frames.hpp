#pragma once
// Splits a byte stream framed by octet counting (RFC 6587 3.4.1, the framing
// syslog over TCP uses when messages may hold newlines): each frame is
// MSG-LEN SP MSG, MSG-LEN a decimal count of MSG's bytes without leading zeros.
//
// Like LineSplitter, every byte is looked at once and what is kept is at most
// `max_frame_bytes`: a frame that declares more is handed over in pieces of
// exactly max_frame_bytes, then the rest. A stream that breaks the framing (a
// length that is not digits then a space, zero, or over 10 digits) cannot be
// resynchronised; the splitter says where it broke and takes nothing more.

#include <cstdint>
#include <string>
#include <string_view>

namespace weir::weir_std {

class OctetFrameSplitter {
 public:
  explicit OctetFrameSplitter(std::size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes > 0 ? max_frame_bytes : 1) {}

  // on_frame(std::string frame) -> bool; false stops early. Returns false
  // when on_frame did or when the framing broke (then error() is not empty).
  template <class OnFrame>
  bool feed(std::string_view bytes, OnFrame&& on_frame) {
    if (!error_.empty()) return false;
    while (!bytes.empty()) {
      if (remaining_ == 0) {
        const char c = bytes.front();
        if (c == ' ' && digits_ > 0) {
          remaining_ = length_;
          length_ = 0;
          digits_ = 0;
        } else if (c >= '0' && c <= '9' && !(c == '0' && digits_ == 0) && digits_ < 10) {
          length_ = length_ * 10 + static_cast<std::uint64_t>(c - '0');
          ++digits_;
        } else {
          error_ = why_broken(c);
          return false;
        }
        bytes.remove_prefix(1);
        ++offset_;
        continue;
      }
      const std::size_t room = max_frame_bytes_ - pending_.size();
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>({remaining_, room, bytes.size()}));
      pending_.append(bytes.data(), take);
      bytes.remove_prefix(take);
      offset_ += take;
      remaining_ -= take;
      if (remaining_ == 0 || pending_.size() == max_frame_bytes_) {
        std::string frame = std::move(pending_);
        pending_ = std::string();
        if (!on_frame(std::move(frame))) return false;
      }
    }
    return true;
  }

  // The framing broke: what was wrong and at which byte of the stream (1-based).
  const std::string& error() const noexcept { return error_; }
  // A frame (or its length) has begun and not ended: at the end of the
  // stream, those bytes are an incomplete frame.
  bool mid_frame() const noexcept { return remaining_ > 0 || digits_ > 0; }
  std::uint64_t bytes_seen() const noexcept { return offset_; }

 private:
  std::string why_broken(char c) const {
    const std::string at = " at byte " + std::to_string(offset_ + 1) + " of the stream";
    if (digits_ == 10) return "a frame length of more than 10 digits" + at;
    if (c == '0' && digits_ == 0) return "a frame length starting with 0" + at;
    const auto byte = static_cast<unsigned char>(c);
    const std::string found = byte >= 0x21 && byte <= 0x7e ? std::string("'") + c + "'"
                              : c == ' '                   ? std::string("a space")
                                                           : "byte " + std::to_string(byte);
    return std::string(digits_ == 0 ? "expected the length of a frame (octet counting)"
                                    : "expected a digit or the space after the frame length") +
           ", found " + found + at;
  }

  std::size_t max_frame_bytes_;
  std::string pending_;
  std::uint64_t length_ = 0;     // the length being read
  unsigned digits_ = 0;          // of it so far
  std::uint64_t remaining_ = 0;  // bytes of the current frame still to come
  std::uint64_t offset_ = 0;
  std::string error_;
};

}  // namespace weir::weir_std
