// Kubernetes channel codec (core/websocket/channel_codec). Expected bytes are literal.
#include "core/websocket/channel_codec.h"

#include <doctest/doctest.h>

#include <string>

#include "core/websocket/channel_format.h"
#include "core/websocket/portforward_channels.h"

namespace kproxy::ws {
namespace {
std::string B(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}
}  // namespace

TEST_CASE("channel codec: protocol names round trip; unknown and empty are upgrade failures") {
  for (auto p : {ChannelProtocol::kV5, ChannelProtocol::kV4, ChannelProtocol::kV1,
                 ChannelProtocol::kBase64, ChannelProtocol::kV4Base64}) {
    auto parsed = ParseChannelProtocol(ChannelProtocolName(p));
    REQUIRE(parsed.ok());
    CHECK(*parsed == p);
  }
  CHECK(std::string(ChannelProtocolName(ChannelProtocol::kV4Base64)) == "v4.base64.channel.k8s.io");
  for (const char* bad : {"", "v6.channel.k8s.io", "V5.CHANNEL.K8S.IO", "portforward.k8s.io"}) {
    auto r = ParseChannelProtocol(bad);
    REQUIRE(!r.ok());
    CHECK(r.error().code == ErrorCode::kUpgradeRejected);
  }
  CHECK(SupportsCloseSignal(ChannelProtocol::kV5));
  CHECK(!SupportsCloseSignal(ChannelProtocol::kV4));
  CHECK(!SupportsCloseSignal(ChannelProtocol::kV1));
}

TEST_CASE("channel codec: binary data message") {
  auto msgs = EncodeData(ChannelProtocol::kV5, 0, "hello from stdin\n");
  REQUIRE(msgs.size() == 1);
  CHECK(!msgs[0].is_text);
  CHECK(msgs[0].data == std::string("\x00hello from stdin\n", 18));
  CHECK(EncodeData(ChannelProtocol::kV5, 0, "").empty());  // never a zero-length message
}

TEST_CASE("channel codec: payloads split so each message is at most 32 KiB") {
  std::string payload(100000, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  for (auto p : {ChannelProtocol::kV5, ChannelProtocol::kV4, ChannelProtocol::kBase64}) {
    auto msgs = EncodeData(p, 1, payload);
    std::string joined;
    for (const auto& m : msgs) {
      CHECK(m.data.size() <= kMaxMessageBytes);
      CHECK(m.data.size() > 1);
      auto d = DecodeMessage(p, ChannelRole::kClient, m.data, m.is_text);
      REQUIRE(d.ok());
      CHECK(d->channel == 1);
      joined += d->payload;
    }
    CHECK(joined == payload);
  }
  // Exactly 32767 payload bytes fit one binary message; one more needs two.
  CHECK(EncodeData(ChannelProtocol::kV5, 1, std::string(32767, 'a')).size() == 1);
  CHECK(EncodeData(ChannelProtocol::kV5, 1, std::string(32768, 'a')).size() == 2);
}

TEST_CASE("channel codec: base64 protocols use text frames, '0'+channel, standard base64") {
  auto msgs = EncodeData(ChannelProtocol::kBase64, 1, "hi?>");
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].is_text);
  CHECK(msgs[0].data == "1aGk/Pg==");  // base64("hi?>") = "aGk/Pg==" (uses '/')
  auto d = DecodeMessage(ChannelProtocol::kV4Base64, ChannelRole::kClient, "2dG8tZXJyCg==", true);
  REQUIRE(d.ok());
  CHECK(d->channel == 2);
  CHECK(d->payload == "to-err\n");
  d = DecodeMessage(ChannelProtocol::kBase64, ChannelRole::kClient, "1", true);
  REQUIRE(d.ok());
  CHECK(d->payload.empty());
}

TEST_CASE("channel codec: v5 close signal and markers") {
  auto sig = EncodeCloseSignal(ChannelProtocol::kV5, 0);
  REQUIRE(sig.ok());
  CHECK(sig->data == B({0xFF, 0x00}));
  CHECK(!sig->is_text);
  auto no = EncodeCloseSignal(ChannelProtocol::kV4, 0);
  CHECK(!no.ok());
  auto d = DecodeMessage(ChannelProtocol::kV5, ChannelRole::kServer, B({0xFF, 0x00}), false);
  REQUIRE(d.ok());
  CHECK(d->kind == ChannelMessage::Kind::kCloseSignal);
  CHECK(d->channel == 0);
  // The initial 1-byte marker is data with an empty payload.
  d = DecodeMessage(ChannelProtocol::kV5, ChannelRole::kClient, B({0x01}), false);
  REQUIRE(d.ok());
  CHECK(d->kind == ChannelMessage::Kind::kData);
  CHECK(d->channel == 1);
  CHECK(d->payload.empty());
  CHECK(EncodeMarker(ChannelProtocol::kV5, 1).data == B({0x01}));
  CHECK(EncodeMarker(ChannelProtocol::kBase64, 1).data == "1");
  d = DecodeMessage(ChannelProtocol::kV5, ChannelRole::kClient, "", false);
  REQUIRE(d.ok());
  CHECK(d->kind == ChannelMessage::Kind::kEmpty);
  // On v4, byte 255 is just a channel number.
  d = DecodeMessage(ChannelProtocol::kV4, ChannelRole::kServer, B({0xFF, 0x00, 0x01}), false);
  REQUIRE(d.ok());
  CHECK(d->kind == ChannelMessage::Kind::kData);
  CHECK(d->channel == 255);
}

TEST_CASE("channel codec: text frames accepted on binary protocols (server rule)") {
  auto d = DecodeMessage(ChannelProtocol::kV4, ChannelRole::kServer, B({0x00, 'x'}), true);
  REQUIRE(d.ok());
  CHECK(d->channel == 0);
  CHECK(d->payload == "x");
}

TEST_CASE("channel codec: malformed messages are protocol errors") {
  struct Case {
    const char* name;
    ChannelProtocol p;
    ChannelRole role;
    std::string msg;
    bool is_text;
  };
  const std::vector<Case> cases = {
      {"close signal too short", ChannelProtocol::kV5, ChannelRole::kServer, B({0xFF}), false},
      {"close signal too long", ChannelProtocol::kV5, ChannelRole::kServer, B({0xFF, 0, 0}), false},
      {"close signal to a client", ChannelProtocol::kV5, ChannelRole::kClient, B({0xFF, 0}), false},
      {"binary under base64", ChannelProtocol::kBase64, ChannelRole::kClient, "1aGk=", false},
      {"bad base64 char", ChannelProtocol::kBase64, ChannelRole::kClient, "1a*k=", true},
      {"bad base64 length", ChannelProtocol::kBase64, ChannelRole::kClient, "1aGk", true},
      {"base64 with whitespace", ChannelProtocol::kBase64, ChannelRole::kClient, "1aG k", true},
      {"padding in the middle", ChannelProtocol::kBase64, ChannelRole::kClient, "1a=k=aGk", true},
      {"bad channel char", ChannelProtocol::kV4Base64, ChannelRole::kClient, "xaGk=", true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto d = DecodeMessage(c.p, c.role, c.msg, c.is_text);
    REQUIRE(!d.ok());
    CHECK(d.error().code == ErrorCode::kProtocol);
  }
}

TEST_CASE("legacy port-forward channels: layout and port prefix") {
  CHECK(PortForwardDataChannel(0) == 0);
  CHECK(PortForwardErrorChannel(0) == 1);
  CHECK(PortForwardDataChannel(2) == 4);
  CHECK(PortForwardErrorChannel(2) == 5);
  CHECK(EncodePortPrefix(8080) == B({0x90, 0x1F}));

  PortForwardChannelDecoder dec({8080, 5432});
  std::vector<PortForwardEvent> ev;
  // Prefix split across messages, then data in the same message as the prefix's end.
  REQUIRE(dec.Feed(0, B({0x90}), &ev).ok());
  CHECK(ev.empty());
  REQUIRE(dec.Feed(0, B({0x1F, 'h', 'i'}), &ev).ok());
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].port_index == 0);
  CHECK(!ev[0].is_error);
  CHECK(ev[0].data == "hi");
  REQUIRE(dec.Feed(3, B({0x38, 0x15}), &ev).ok());  // 5432 on the error channel of port #1
  REQUIRE(dec.Feed(3, "boom", &ev).ok());
  REQUIRE(ev.size() == 2);
  CHECK(ev[1].port_index == 1);
  CHECK(ev[1].is_error);
  CHECK(ev[1].data == "boom");
}

TEST_CASE("legacy port-forward channels: wrong port or unknown channel fail, sticky") {
  PortForwardChannelDecoder dec({8080});
  std::vector<PortForwardEvent> ev;
  CHECK(!dec.Feed(0, B({0x91, 0x1F}), &ev).ok());
  CHECK(!dec.Feed(1, B({0x90, 0x1F}), &ev).ok());
  PortForwardChannelDecoder dec2({8080});
  CHECK(!dec2.Feed(2, B({0x90, 0x1F}), &ev).ok());
  CHECK(ev.empty());
}

TEST_CASE("channel codec: the view decoder points into the message, base64 into scratch") {
  std::string scratch = "stale";
  const std::string bin = B({0x01, 'a', 'b', 'c'});
  auto v = DecodeMessageView(ChannelProtocol::kV5, ChannelRole::kClient, bin, false, &scratch);
  REQUIRE(v.ok());
  CHECK(v->kind == ChannelMessage::Kind::kData);
  CHECK(v->channel == 1);
  CHECK(v->payload == "abc");
  CHECK(v->payload.data() == bin.data() + 1);  // no copy
  CHECK(scratch == "stale");                   // untouched for binary protocols

  // "1" + base64("hi") on channel.k8s.io: decoded into scratch.
  v = DecodeMessageView(ChannelProtocol::kBase64, ChannelRole::kClient, "1aGk=", true, &scratch);
  REQUIRE(v.ok());
  CHECK(v->channel == 1);
  CHECK(v->payload == "hi");
  CHECK(v->payload.data() == scratch.data());

  v = DecodeMessageView(ChannelProtocol::kV5, ChannelRole::kServer, B({0xFF, 0x02}), false,
                        &scratch);
  REQUIRE(v.ok());
  CHECK(v->kind == ChannelMessage::Kind::kCloseSignal);
  CHECK(v->channel == 2);
  CHECK(v->payload.empty());

  v = DecodeMessageView(ChannelProtocol::kV5, ChannelRole::kClient, "", false, &scratch);
  REQUIRE(v.ok());
  CHECK(v->kind == ChannelMessage::Kind::kEmpty);

  v = DecodeMessageView(ChannelProtocol::kV5, ChannelRole::kClient, B({0xFF, 0x00}), false,
                        &scratch);
  REQUIRE(!v.ok());
  CHECK(v.error().code == ErrorCode::kProtocol);
  v = DecodeMessageView(ChannelProtocol::kBase64, ChannelRole::kClient, "1a*k=", true, &scratch);
  REQUIRE(!v.ok());
  CHECK(v.error().code == ErrorCode::kProtocol);
}

}  // namespace kproxy::ws
