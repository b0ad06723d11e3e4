// Tests of the crypto layer. The same source is built twice, against the OpenSSL 3 backend
// (crypto_test) and the BoringSSL backend (crypto_boringssl_test); both must pass all of it.
//
// Wycheproof vectors are read from $ART_SHARED_DIR/testdata/wycheproof (.bazelrc passes
// ART_SHARED_DIR through); those tests skip, naming the path, when it is unset or a file is absent.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "art/crypto/aead.h"
#include "art/crypto/backend.h"
#include "art/crypto/bytes.h"
#include "art/crypto/ed25519.h"
#include "art/crypto/hash.h"
#include "art/crypto/random.h"
#include "art/crypto/secret_bytes.h"
#include "art/crypto/x25519.h"

namespace art {
namespace {

using ::nlohmann::json;

// Parses test-vector hex; a typo in a vector fails the test instead of comparing against garbage.
Bytes Hex(std::string_view hex) {
  Bytes bytes;
  EXPECT_TRUE(FromHex(hex, &bytes)) << "bad hex in a test vector: " << hex;
  return bytes;
}

Bytes HexField(const json& value) { return Hex(value.get<std::string>()); }

Bytes Repeat(uint8_t byte, size_t count) { return Bytes(count, byte); }

// Prints the backend once per binary, so a log says which library the results are for.
class BackendEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::printf("art/crypto backend: %.*s (%.*s)\n", static_cast<int>(CryptoBackendName().size()),
                CryptoBackendName().data(), static_cast<int>(CryptoBackendVersion().size()),
                CryptoBackendVersion().data());
  }
};
::testing::Environment* const kBackendEnvironment =
    ::testing::AddGlobalTestEnvironment(new BackendEnvironment);

TEST(Backend, IsTheOneThisTestIsNamedAfter) {
  EXPECT_EQ(CryptoBackendName(), ART_EXPECTED_BACKEND);
  EXPECT_FALSE(CryptoBackendVersion().empty());
}

// ---------------------------------------------------------------------------------------------
// Bytes, SecretBytes, SecureWipe, ConstantTimeEquals

TEST(Bytes, HexRoundTrip) {
  const Bytes bytes = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  EXPECT_EQ(ToHex(bytes), "00017f80abff");
  Bytes parsed;
  ASSERT_TRUE(FromHex("00017F80ABff", &parsed));
  EXPECT_EQ(parsed, bytes);
  ASSERT_TRUE(FromHex("", &parsed));
  EXPECT_TRUE(parsed.empty());
}

TEST(Bytes, FromHexRejectsMalformedInputAndKeepsTheOutput) {
  Bytes out = {0x42};
  EXPECT_FALSE(FromHex("abc", &out));
  EXPECT_FALSE(FromHex("0g", &out));
  EXPECT_FALSE(FromHex(" 00", &out));
  EXPECT_EQ(out, Bytes({0x42}));
}

TEST(SecretBytes, WipeZeroesTheBuffer) {
  SecretBytes secret(Repeat(0xa5, 64));
  const uint8_t* buffer = secret.data();
  secret.Wipe();
  EXPECT_TRUE(secret.empty());
  // Wipe() keeps the allocation, so the old bytes can still be inspected.
  for (size_t i = 0; i < 64; ++i) ASSERT_EQ(buffer[i], 0) << "byte " << i;
}

TEST(SecretBytes, CopyAssignmentWipesTheOldContents) {
  SecretBytes secret(Repeat(0xa5, 64));
  const uint8_t* buffer = secret.data();
  const SecretBytes shorter(Repeat(0x11, 4));
  secret = shorter;
  ASSERT_EQ(secret.data(), buffer) << "expected the shorter copy to reuse the buffer";
  EXPECT_EQ(secret.span(), shorter.span());
  for (size_t i = 4; i < 64; ++i) ASSERT_EQ(buffer[i], 0) << "byte " << i;
}

TEST(SecretBytes, MoveHandsOverTheBufferAndEmptiesTheSource) {
  SecretBytes source(Repeat(0x5a, 32));
  const uint8_t* buffer = source.data();
  SecretBytes moved(std::move(source));
  EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move): the contract says so.
  EXPECT_EQ(moved.data(), buffer);
  EXPECT_EQ(moved.span(), ByteSpan(Repeat(0x5a, 32)));

  SecretBytes assigned(Repeat(0x01, 8));
  assigned = std::move(moved);
  EXPECT_TRUE(moved.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(assigned.data(), buffer);
}

TEST(SecretBytes, EqualityComparesContentsAndLengths) {
  const SecretBytes a(Repeat(7, 32));
  EXPECT_TRUE(a == SecretBytes(Repeat(7, 32)));
  EXPECT_TRUE(a != SecretBytes(Repeat(7, 31)));
  Bytes last_differs = Repeat(7, 32);
  last_differs.back() ^= 1;
  EXPECT_TRUE(a != SecretBytes(last_differs));
  EXPECT_TRUE(SecretBytes() == SecretBytes(size_t{0}));
}

TEST(SecureWipe, ZeroesExactlyTheGivenRange) {
  uint8_t buffer[16];
  std::fill(std::begin(buffer), std::end(buffer), 0xee);
  SecureWipe(buffer + 4, 8);
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(buffer[i], (i >= 4 && i < 12) ? 0 : 0xee) << i;
  SecureWipe(nullptr, 0);
}

TEST(ConstantTimeEquals, Behaviour) {
  const Bytes a = Hex("00112233445566778899aabbccddeeff");
  EXPECT_TRUE(ConstantTimeEquals(a, a));
  EXPECT_TRUE(ConstantTimeEquals(ByteSpan(), ByteSpan()));
  for (size_t i = 0; i < a.size(); ++i) {
    for (uint8_t bit = 1; bit != 0; bit <<= 1) {
      Bytes b = a;
      b[i] ^= bit;
      EXPECT_FALSE(ConstantTimeEquals(a, b)) << "byte " << i << " bit " << int{bit};
    }
  }
  EXPECT_FALSE(ConstantTimeEquals(a, ByteSpan(a).first(15)));
  EXPECT_FALSE(ConstantTimeEquals(ByteSpan(), a));
}

// ---------------------------------------------------------------------------------------------
// Random

TEST(Random, GivesFreshBytes) {
  uint8_t first[32] = {};
  uint8_t second[32] = {};
  ASSERT_TRUE(RandomFill(absl::MakeSpan(first)).ok());
  ASSERT_TRUE(RandomFill(absl::MakeSpan(second)).ok());
  EXPECT_FALSE(ConstantTimeEquals(first, second));
  absl::StatusOr<SecretBytes> secret = RandomSecret(48);
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->size(), 48u);
  EXPECT_TRUE(RandomSecret(0).ok());
  EXPECT_TRUE(RandomFill(absl::Span<uint8_t>()).ok());
}

// ---------------------------------------------------------------------------------------------
// SHA-256, HMAC-SHA256 (RFC 4231), HKDF (RFC 5869)

TEST(Sha256, KnownAnswers) {
  EXPECT_EQ(ToHex(Sha256(ByteSpan())),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HmacSha256, Rfc4231) {
  struct Case {
    const char* name;
    Bytes key;
    Bytes data;
    const char* tag;  // A shorter tag is a truncated one: compare the prefix.
  };
  const Case cases[] = {
      {"1", Repeat(0x0b, 20), Hex("4869205468657265"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"2", Hex("4a656665"), Hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"3", Repeat(0xaa, 20), Repeat(0xdd, 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"4", Hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), Repeat(0xcd, 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"5", Repeat(0x0c, 20), Hex("546573742057697468205472756e636174696f6e"),
       "a3b6167473100ee06e0c796c2955552b"},
      {"6", Repeat(0xaa, 131),
       Hex("54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048"
           "617368204b6579204669727374"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"7", Repeat(0xaa, 131),
       Hex("5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73"
           "697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e"
           "20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e672075"
           "7365642062792074686520484d414320616c676f726974686d2e"),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const Case& test : cases) {
    const SecretBytes tag = HmacSha256(test.key, test.data);
    ASSERT_EQ(tag.size(), kSha256Size);
    const std::string expected = test.tag;
    EXPECT_EQ(ToHex(tag.span().first(expected.size() / 2)), expected) << "test case " << test.name;
  }
}

TEST(Hkdf, Rfc5869) {
  struct Case {
    const char* name;
    Bytes input_key_material, salt, info;
    const char* pseudorandom_key;
    const char* output;
  };
  Bytes long_input(80), long_salt(80), long_info(80);
  for (size_t i = 0; i < 80; ++i) {
    long_input[i] = static_cast<uint8_t>(i);
    long_salt[i] = static_cast<uint8_t>(0x60 + i);
    long_info[i] = static_cast<uint8_t>(0xb0 + i);
  }
  const Case cases[] = {
      {"1", Repeat(0x0b, 22), Hex("000102030405060708090a0b0c"), Hex("f0f1f2f3f4f5f6f7f8f9"),
       "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
       "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
      {"2", long_input, long_salt, long_info,
       "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
       "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e"
       "590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"},
      {"3", Repeat(0x0b, 22), Bytes(), Bytes(),
       "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
       "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
  };
  for (const Case& test : cases) {
    const SecretBytes pseudorandom_key = HkdfExtract(test.salt, test.input_key_material);
    EXPECT_EQ(ToHex(pseudorandom_key.span()), test.pseudorandom_key) << "test case " << test.name;
    const std::string expected = test.output;
    absl::StatusOr<SecretBytes> output =
        HkdfExpand(pseudorandom_key.span(), test.info, expected.size() / 2);
    ASSERT_TRUE(output.ok()) << output.status();
    EXPECT_EQ(ToHex(output->span()), expected) << "test case " << test.name;
  }
}

TEST(Hkdf, ExpandLimits) {
  const SecretBytes pseudorandom_key(Repeat(0x01, 32));
  EXPECT_EQ(HkdfExpand(pseudorandom_key.span(), {}, 255 * 32 + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HkdfExpand(Repeat(0x01, 31), {}, 32).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<SecretBytes> longest = HkdfExpand(pseudorandom_key.span(), {}, 255 * 32);
  ASSERT_TRUE(longest.ok()) << longest.status();
  EXPECT_EQ(longest->size(), 255u * 32);
  absl::StatusOr<SecretBytes> empty = HkdfExpand(pseudorandom_key.span(), {}, 0);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  // A long info (beyond the fixed buffer some OpenSSL versions had) works.
  absl::StatusOr<SecretBytes> long_info = HkdfExpand(pseudorandom_key.span(), Repeat(9, 5000), 64);
  ASSERT_TRUE(long_info.ok()) << long_info.status();
}

// ---------------------------------------------------------------------------------------------
// AES-256-GCM

TEST(Aes256Gcm, KnownAnswers) {
  struct Case {
    const char* name;
    const char *key, *nonce, *additional_data, *plaintext, *ciphertext_and_tag;
  };
  // McGrew and Viega, "The Galois/Counter Mode of Operation", test cases 13, 14 and 16.
  const Case cases[] = {
      {"13", "0000000000000000000000000000000000000000000000000000000000000000",
       "000000000000000000000000", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
      {"14", "0000000000000000000000000000000000000000000000000000000000000000",
       "000000000000000000000000", "", "00000000000000000000000000000000",
       "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"},
      {"16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
       "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
       "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
       "49a6b525b16aedf5aa0de657ba637b39",
       "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
       "56828838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b"},
  };
  for (const Case& test : cases) {
    absl::StatusOr<Bytes> sealed = Aes256GcmSeal(Hex(test.key), Hex(test.nonce),
                                                 Hex(test.additional_data), Hex(test.plaintext));
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    EXPECT_EQ(ToHex(*sealed), test.ciphertext_and_tag) << "test case " << test.name;
    absl::StatusOr<SecretBytes> opened =
        Aes256GcmOpen(Hex(test.key), Hex(test.nonce), Hex(test.additional_data), *sealed);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(ToHex(opened->span()), test.plaintext) << "test case " << test.name;
  }
}

TEST(Aes256Gcm, RejectsTamperingWithPermissionDenied) {
  const Bytes key = Repeat(0x42, 32), nonce = Repeat(0x24, 12), additional_data = Hex("a0a1");
  absl::StatusOr<Bytes> sealed = Aes256GcmSeal(key, nonce, additional_data, AsBytes("attack"));
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  for (size_t i = 0; i < sealed->size(); ++i) {
    Bytes tampered = *sealed;
    tampered[i] ^= 0x01;
    EXPECT_EQ(Aes256GcmOpen(key, nonce, additional_data, tampered).status().code(),
              absl::StatusCode::kPermissionDenied)
        << "byte " << i << (i >= sealed->size() - kAes256GcmTagSize ? " (tag)" : " (ciphertext)");
  }
  EXPECT_EQ(Aes256GcmOpen(key, nonce, Hex("a0a2"), *sealed).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Aes256GcmOpen(key, Repeat(0x25, 12), additional_data, *sealed).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Aes256GcmOpen(key, nonce, additional_data, ByteSpan(*sealed).first(15)).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(Aes256Gcm, RejectsWrongSizesWithInvalidArgument) {
  const Bytes plaintext = Repeat(1, 10);
  for (size_t key_size : {0, 16, 24, 31, 33}) {
    EXPECT_EQ(Aes256GcmSeal(Repeat(1, key_size), Repeat(2, 12), {}, plaintext).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Aes256GcmOpen(Repeat(1, key_size), Repeat(2, 12), {}, Repeat(3, 32)).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  for (size_t nonce_size : {0, 8, 11, 13, 16}) {
    EXPECT_EQ(Aes256GcmSeal(Repeat(1, 32), Repeat(2, nonce_size), {}, plaintext).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(
        Aes256GcmOpen(Repeat(1, 32), Repeat(2, nonce_size), {}, Repeat(3, 32)).status().code(),
        absl::StatusCode::kInvalidArgument);
  }
}

TEST(Aes256Gcm, EmptyPlaintextRoundTrip) {
  const Bytes key = Repeat(7, 32), nonce = Repeat(8, 12);
  absl::StatusOr<Bytes> sealed = Aes256GcmSeal(key, nonce, {}, {});
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->size(), kAes256GcmTagSize);
  absl::StatusOr<SecretBytes> opened = Aes256GcmOpen(key, nonce, {}, *sealed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_TRUE(opened->empty());
}

// ---------------------------------------------------------------------------------------------
// X25519 (RFC 7748) and its strict rules

// X25519(scalar, u) through the public API.
std::string X25519Hex(const Bytes& scalar, const Bytes& u) {
  absl::StatusOr<X25519PrivateKey> key = X25519PrivateKey::FromSecret(scalar);
  EXPECT_TRUE(key.ok()) << key.status();
  if (!key.ok()) return "";
  absl::StatusOr<SecretBytes> shared = key->Agree(u);
  EXPECT_TRUE(shared.ok()) << shared.status();
  return shared.ok() ? ToHex(shared->span()) : "";
}

TEST(X25519, Rfc7748Section5_2) {
  EXPECT_EQ(X25519Hex(Hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
                      Hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")),
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  // The second vector's u has its top bit set. RFC 7748 masks it; our rule rejects it as
  // non-canonical; with the bit cleared (the u RFC 7748 computes with) it gives the RFC's answer.
  const Bytes scalar = Hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d");
  Bytes u = Hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493");
  absl::StatusOr<X25519PrivateKey> key = X25519PrivateKey::FromSecret(scalar);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->Agree(u).status().code(), absl::StatusCode::kInvalidArgument);
  u[31] &= 0x7f;
  EXPECT_EQ(X25519Hex(scalar, u),
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

// RFC 7748 section 5.2's iteration: k = u = 9, then (k, u) = (X25519(k, u), k).
std::string IterateX25519(int iterations) {
  Bytes k(32, 0), u(32, 0);
  k[0] = u[0] = 9;
  for (int i = 0; i < iterations; ++i) {
    Bytes next = Hex(X25519Hex(k, u));
    u = std::move(k);
    k = std::move(next);
  }
  return ToHex(k);
}

TEST(X25519, Rfc7748IteratedOnce) {
  EXPECT_EQ(IterateX25519(1), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
}

TEST(X25519, Rfc7748Iterated1000Times) {
  EXPECT_EQ(IterateX25519(1000),
            "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

// A minute or more; run with --gtest_also_run_disabled_tests.
TEST(X25519, DISABLED_Rfc7748IteratedAMillionTimes) {
  EXPECT_EQ(IterateX25519(1000000),
            "7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f658424");
}

TEST(X25519, Rfc7748Section6_1DiffieHellman) {
  absl::StatusOr<X25519PrivateKey> alice = X25519PrivateKey::FromSecret(
      Hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  absl::StatusOr<X25519PrivateKey> bob = X25519PrivateKey::FromSecret(
      Hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  ASSERT_TRUE(alice.ok() && bob.ok());
  EXPECT_EQ(ToHex(alice->public_key()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(ToHex(bob->public_key()),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  absl::StatusOr<SecretBytes> alice_shared = alice->Agree(bob->public_key());
  absl::StatusOr<SecretBytes> bob_shared = bob->Agree(alice->public_key());
  ASSERT_TRUE(alice_shared.ok() && bob_shared.ok());
  EXPECT_EQ(ToHex(alice_shared->span()),
            "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_TRUE(*alice_shared == *bob_shared);
}

// Every small-order point, in all the encodings a peer could send: the canonical u, and u + p and
// u with the top bit set where those fit in 32 bytes.
std::vector<std::string> SmallOrderX25519Encodings() {
  return {
      "0000000000000000000000000000000000000000000000000000000000000000",  // 0
      "0100000000000000000000000000000000000000000000000000000000000000",  // 1
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p (= 0)
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1 (= 1)
      "cdeb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",  // order 8 + p
      "4c9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",  // order 8 + p
      "d9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // 2p - 1
      "daffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // 2p
      "dbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // 2p + 1
      "0000000000000000000000000000000000000000000000000000000000000080",  // 0, top bit set
      "0100000000000000000000000000000000000000000000000000000000000080",  // 1, top bit set
  };
}

TEST(X25519, RejectsSmallOrderAndNonCanonicalPublicKeys) {
  absl::StatusOr<X25519PrivateKey> key = X25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok()) << key.status();
  for (const std::string& encoding : SmallOrderX25519Encodings()) {
    const Bytes public_key = Hex(encoding);
    EXPECT_EQ(ValidateX25519PublicKey(public_key).code(), absl::StatusCode::kInvalidArgument)
        << encoding;
    // These would all give the all-zero shared secret: Agree must refuse, never return zeros.
    EXPECT_EQ(key->Agree(public_key).status().code(), absl::StatusCode::kInvalidArgument)
        << encoding;
  }
  // A good key with the top bit set is non-canonical too.
  X25519PublicKey high_bit = key->public_key();
  EXPECT_TRUE(ValidateX25519PublicKey(high_bit).ok());
  high_bit[31] |= 0x80;
  EXPECT_EQ(key->Agree(high_bit).status().code(), absl::StatusCode::kInvalidArgument);
  // The largest canonical u (p - 1) is small order; p - 2 is an ordinary twist point.
  EXPECT_TRUE(ValidateX25519PublicKey(
                  Hex("ebffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"))
                  .ok());
  EXPECT_EQ(ValidateX25519PublicKey(Repeat(9, 31)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(key->Agree(Repeat(9, 33)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(X25519, FromSecretRejectsWrongSizes) {
  EXPECT_EQ(X25519PrivateKey::FromSecret(Repeat(1, 31)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(X25519PrivateKey::FromSecret(Repeat(1, 33)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(X25519, GenerateGivesDistinctKeysThatAgree) {
  absl::StatusOr<X25519PrivateKey> a = X25519PrivateKey::Generate();
  absl::StatusOr<X25519PrivateKey> b = X25519PrivateKey::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->public_key(), b->public_key());
  EXPECT_FALSE(a->secret() == b->secret());
  EXPECT_EQ(a->secret().size(), kX25519KeySize);
  // The key pair is the one FromSecret builds from the same scalar.
  absl::StatusOr<X25519PrivateKey> a_again = X25519PrivateKey::FromSecret(a->secret().span());
  ASSERT_TRUE(a_again.ok());
  EXPECT_EQ(a_again->public_key(), a->public_key());
  absl::StatusOr<SecretBytes> ab = a->Agree(b->public_key());
  absl::StatusOr<SecretBytes> ba = b->Agree(a->public_key());
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_TRUE(*ab == *ba);
}

TEST(X25519, CopiesAndThreadsShareOneKey) {
  absl::StatusOr<X25519PrivateKey> key = X25519PrivateKey::Generate();
  absl::StatusOr<X25519PrivateKey> peer = X25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok() && peer.ok());
  absl::StatusOr<SecretBytes> expected = key->Agree(peer->public_key());
  ASSERT_TRUE(expected.ok());
  const X25519PrivateKey copy = *key;
  EXPECT_EQ(&copy.secret(), &key->secret()) << "a copy should share the backend object";

  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        absl::StatusOr<SecretBytes> shared = key->Agree(peer->public_key());
        if (!shared.ok() || !(*shared == *expected)) ++mismatches;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);

  X25519PrivateKey moved_to = std::move(*key);
  EXPECT_EQ(key->Agree(peer->public_key()).status().code(),  // NOLINT(bugprone-use-after-move)
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(key->secret().empty());
}

// ---------------------------------------------------------------------------------------------
// Ed25519 (RFC 8032) and its strict rules

struct Ed25519Vector {
  const char* name;
  const char* seed;
  const char* public_key;
  std::string message;  // hex
  const char* signature;
};

std::vector<Ed25519Vector> Rfc8032Vectors() {
  return {
      {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
       "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
       "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
      {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
       "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
       "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760"
       "984dc6594a7c15e9716ed28dc027beceea1ec40a"},
      {"TEST 1024", "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
       "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
       "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f5"
       "4e9f77b1e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37"
       "c93a1b270b20329d658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efc"
       "b8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b"
       "3b310da903401aa62100ab5d1a36553e06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573c"
       "b116dbefefd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204"
       "ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed185ce81bd84359d44254d95629e9855a94a7c1958"
       "d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"
       "554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f27088d78b7e883c8759d2c4f5c6"
       "5adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2"
       "cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128bab27af87a"
       "71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b"
       "e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9"
       "b47acdb751fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb"
       "038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f672451"
       "7b65e614ad6808d6f6ee34dff7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"
       "d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e"
       "2ab47b57f7f7276cd419c17a3ca8e1b939ae49e488acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d"
       "5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e6aed3fb0"
       "f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5fb93246f6b1116398a346f1a641f3b041"
       "e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa9"
       "33a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380db2eaaa707b4c4185"
       "c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8cac60c905c"
       "15fc910840b94c00a0b9d0",
       "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23"
       "c436d94b5e8fcd4f681e30a6ac00a9704a188a03"},
      {"TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
       "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
       "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23"
       "a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
       "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c6"
       "6431e0303dca179c138ac17ad9bef1177331a704"},
  };
}

TEST(Ed25519, Rfc8032Vectors) {
  for (const Ed25519Vector& test : Rfc8032Vectors()) {
    SCOPED_TRACE(test.name);
    const Bytes message = Hex(test.message);
    if (std::string_view(test.name) == "TEST 1024") {
      EXPECT_EQ(message.size(), 1023u);
    }
    absl::StatusOr<Ed25519PrivateKey> key = Ed25519PrivateKey::FromSeed(Hex(test.seed));
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(ToHex(key->public_key()), test.public_key);
    EXPECT_EQ(ToHex(key->seed().span()), test.seed);
    absl::StatusOr<Ed25519Signature> signature = key->Sign(message);
    ASSERT_TRUE(signature.ok()) << signature.status();
    EXPECT_EQ(ToHex(*signature), test.signature);
    EXPECT_TRUE(Ed25519Verify(Hex(test.public_key), message, Hex(test.signature)).ok());
  }
}

TEST(Ed25519, SignVerifyRoundTripAndTampering) {
  absl::StatusOr<Ed25519PrivateKey> key = Ed25519PrivateKey::Generate();
  absl::StatusOr<Ed25519PrivateKey> other = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok() && other.ok());
  EXPECT_NE(key->public_key(), other->public_key());
  EXPECT_TRUE(ValidateEd25519PublicKey(key->public_key()).ok());
  const ByteSpan message = AsBytes("art v1 test message");
  absl::StatusOr<Ed25519Signature> signature = key->Sign(message);
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_TRUE(Ed25519Verify(key->public_key(), message, *signature).ok());

  for (size_t i = 0; i < signature->size(); i += 7) {
    Ed25519Signature tampered = *signature;
    tampered[i] ^= 0x04;
    EXPECT_EQ(Ed25519Verify(key->public_key(), message, tampered).code(),
              absl::StatusCode::kPermissionDenied)
        << "byte " << i;
  }
  EXPECT_EQ(Ed25519Verify(key->public_key(), AsBytes("art v1 test messagf"), *signature).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Ed25519Verify(other->public_key(), message, *signature).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Ed25519Verify(key->public_key(), message, ByteSpan(*signature).first(63)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519Verify(ByteSpan(key->public_key()).first(31), message, *signature).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519PrivateKey::FromSeed(Repeat(1, 31)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Adds L to the little-endian S of |signature|: the same point equation, a non-canonical S.
Ed25519Signature AddGroupOrderToS(Ed25519Signature signature) {
  const Bytes order = Hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    const unsigned sum = signature[32 + i] + order[i] + carry;
    signature[32 + i] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
  }
  return signature;
}

TEST(Ed25519, RejectsNonCanonicalS) {
  const Ed25519Vector test = Rfc8032Vectors()[0];
  Bytes signature_bytes = Hex(test.signature);
  Ed25519Signature signature;
  std::copy(signature_bytes.begin(), signature_bytes.end(), signature.begin());
  EXPECT_EQ(Ed25519Verify(Hex(test.public_key), ByteSpan(), AddGroupOrderToS(signature)).code(),
            absl::StatusCode::kPermissionDenied);
}

// The 8 points of small order, and the two non-canonical "negative zero" encodings of x = 0.
std::vector<std::string> SmallOrderEd25519Encodings() {
  return {
      "0100000000000000000000000000000000000000000000000000000000000000",  // identity
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // order 2
      "0000000000000000000000000000000000000000000000000000000000000000",  // order 4
      "0000000000000000000000000000000000000000000000000000000000000080",  // order 4
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  // order 8
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  // order 8
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  // order 8
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  // order 8
      "0100000000000000000000000000000000000000000000000000000000000080",  // identity, -0
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // order 2, -0
  };
}

// Encodings whose y is >= p: never canonical, whatever point they would reduce to.
std::vector<std::string> NonCanonicalEd25519Encodings() {
  return {
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p + 1
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // y = p + 1, x < 0
      "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = 2^255 - 1
  };
}

TEST(Ed25519, RejectsSmallOrderAndNonCanonicalPublicKeys) {
  std::vector<std::string> encodings = SmallOrderEd25519Encodings();
  for (const std::string& encoding : NonCanonicalEd25519Encodings()) encodings.push_back(encoding);
  const Ed25519Vector test = Rfc8032Vectors()[0];
  for (const std::string& encoding : encodings) {
    EXPECT_EQ(ValidateEd25519PublicKey(Hex(encoding)).code(), absl::StatusCode::kInvalidArgument)
        << encoding;
    EXPECT_EQ(Ed25519Verify(Hex(encoding), ByteSpan(), Hex(test.signature)).code(),
              absl::StatusCode::kInvalidArgument)
        << encoding;
  }
}

TEST(Ed25519, RejectsSmallOrderAndNonCanonicalR) {
  // A is a good key and S is in range; only R is bad.
  const Ed25519Vector test = Rfc8032Vectors()[0];
  std::vector<std::string> encodings = SmallOrderEd25519Encodings();
  for (const std::string& encoding : NonCanonicalEd25519Encodings()) encodings.push_back(encoding);
  for (const std::string& encoding : encodings) {
    Bytes signature = Hex(encoding);
    const Bytes s = Hex(test.signature);
    signature.insert(signature.end(), s.begin() + 32, s.end());
    EXPECT_EQ(Ed25519Verify(Hex(test.public_key), ByteSpan(), signature).code(),
              absl::StatusCode::kPermissionDenied)
        << encoding;
  }
}

TEST(Ed25519, ThreadsShareOneKey) {
  absl::StatusOr<Ed25519PrivateKey> key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  const ByteSpan message = AsBytes("parallel");
  absl::StatusOr<Ed25519Signature> expected = key->Sign(message);
  ASSERT_TRUE(expected.ok());
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        absl::StatusOr<Ed25519Signature> signature = key->Sign(message);
        if (!signature.ok() || *signature != *expected ||
            !Ed25519Verify(key->public_key(), message, *signature).ok()) {
          ++mismatches;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// ---------------------------------------------------------------------------------------------
// Wycheproof

// Loads $ART_SHARED_DIR/testdata/wycheproof/|file_name| into |vectors|. Returns false with the
// reason in |why_not| when the file is not available, so the caller can skip.
bool LoadWycheproof(const std::string& file_name, json* vectors, std::string* why_not) {
  const char* shared_directory = std::getenv("ART_SHARED_DIR");
  const std::string relative_path = "testdata/wycheproof/" + file_name;
  if (shared_directory == nullptr || *shared_directory == '\0') {
    *why_not =
        "ART_SHARED_DIR is not set; set it to the project's ../shared to run $ART_SHARED_DIR/" +
        relative_path;
    return false;
  }
  const std::string path = std::string(shared_directory) + "/" + relative_path;
  std::ifstream stream(path);
  if (!stream) {
    *why_not = path + " not found (ART_SHARED_DIR=" + shared_directory + ")";
    return false;
  }
  *vectors = json::parse(stream, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(vectors->is_discarded()) << path << " is not valid JSON";
  return !vectors->is_discarded();
}

#define LOAD_WYCHEPROOF_OR_SKIP(file_name, vectors)                          \
  json vectors;                                                              \
  if (std::string why_not; !LoadWycheproof(file_name, &vectors, &why_not)) { \
    GTEST_SKIP() << why_not;                                                 \
  }

std::set<std::string> Flags(const json& test) { return test["flags"].get<std::set<std::string>>(); }

// Every test case in the file must have been run: a loop that silently ran nothing fails here.
void ExpectAllCasesRan(const json& vectors, int cases_run) {
  EXPECT_GT(cases_run, 0);
  EXPECT_EQ(cases_run, vectors["numberOfTests"].get<int>());
}

std::string CaseName(const json& test) {
  return "tcId " + std::to_string(test["tcId"].get<int>()) + " (" +
         test["comment"].get<std::string>() + ")";
}

TEST(Wycheproof, X25519) {
  LOAD_WYCHEPROOF_OR_SKIP("x25519_test.json", vectors);
  // Our strict policy rejects what Wycheproof marks acceptable for these reasons; the other
  // acceptable cases (twist points, edge-case arithmetic) must give the expected secret.
  const std::set<std::string> kRejectedFlags = {"LowOrderPublic", "NonCanonicalPublic",
                                                "ZeroSharedSecret"};
  int cases_run = 0, rejected = 0;
  for (const json& group : vectors["testGroups"]) {
    ASSERT_EQ(group["curve"], "curve25519");
    for (const json& test : group["tests"]) {
      ++cases_run;
      const std::string result = test["result"];
      bool reject = result == "invalid";
      if (result == "acceptable") {
        for (const std::string& flag : Flags(test)) {
          reject = reject || kRejectedFlags.count(flag) > 0;
        }
      }
      absl::StatusOr<X25519PrivateKey> key =
          X25519PrivateKey::FromSecret(HexField(test["private"]));
      ASSERT_TRUE(key.ok()) << CaseName(test) << ": " << key.status();
      absl::StatusOr<SecretBytes> shared = key->Agree(HexField(test["public"]));
      if (reject) {
        ++rejected;
        EXPECT_EQ(shared.status().code(), absl::StatusCode::kInvalidArgument) << CaseName(test);
      } else {
        ASSERT_TRUE(shared.ok()) << CaseName(test) << ": " << shared.status();
        EXPECT_EQ(ToHex(shared->span()), test["shared"].get<std::string>()) << CaseName(test);
      }
    }
  }
  ExpectAllCasesRan(vectors, cases_run);
  std::printf("x25519: %d cases, %d rejected by policy\n", cases_run, rejected);
}

TEST(Wycheproof, Ed25519) {
  LOAD_WYCHEPROOF_OR_SKIP("ed25519_test.json", vectors);
  int cases_run = 0;
  for (const json& group : vectors["testGroups"]) {
    const Bytes public_key = HexField(group["publicKey"]["pk"]);
    for (const json& test : group["tests"]) {
      ++cases_run;
      const std::string result = test["result"];
      const absl::Status status =
          Ed25519Verify(public_key, HexField(test["msg"]), HexField(test["sig"]));
      if (result == "valid") {
        EXPECT_TRUE(status.ok()) << CaseName(test) << ": " << status;
      } else if (result == "invalid") {
        EXPECT_FALSE(status.ok()) << CaseName(test);
      } else {
        ADD_FAILURE() << CaseName(test) << ": no policy for result " << result;
      }
    }
  }
  ExpectAllCasesRan(vectors, cases_run);
}

TEST(Wycheproof, Aes256Gcm) {
  LOAD_WYCHEPROOF_OR_SKIP("aes_gcm_test.json", vectors);
  int cases_run = 0, outside_our_sizes = 0;
  for (const json& group : vectors["testGroups"]) {
    const bool our_sizes = group["keySize"] == 8 * kAes256GcmKeySize &&
                           group["ivSize"] == 8 * kAes256GcmNonceSize &&
                           group["tagSize"] == 8 * kAes256GcmTagSize;
    for (const json& test : group["tests"]) {
      ++cases_run;
      const Bytes key = HexField(test["key"]);
      const Bytes nonce = HexField(test["iv"]);
      const Bytes additional_data = HexField(test["aad"]);
      const Bytes plaintext = HexField(test["msg"]);
      Bytes ciphertext_and_tag = HexField(test["ct"]);
      const Bytes tag = HexField(test["tag"]);
      ciphertext_and_tag.insert(ciphertext_and_tag.end(), tag.begin(), tag.end());
      absl::StatusOr<SecretBytes> opened =
          Aes256GcmOpen(key, nonce, additional_data, ciphertext_and_tag);
      if (!our_sizes) {
        // Other key and nonce sizes are not in our API: both directions refuse them.
        ++outside_our_sizes;
        ASSERT_EQ(group["tagSize"], 8 * kAes256GcmTagSize) << "no check for other tag sizes";
        EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument) << CaseName(test);
        EXPECT_EQ(Aes256GcmSeal(key, nonce, additional_data, plaintext).status().code(),
                  absl::StatusCode::kInvalidArgument)
            << CaseName(test);
      } else if (test["result"] == "valid") {
        absl::StatusOr<Bytes> sealed = Aes256GcmSeal(key, nonce, additional_data, plaintext);
        ASSERT_TRUE(sealed.ok()) << CaseName(test) << ": " << sealed.status();
        EXPECT_EQ(ToHex(*sealed), ToHex(ciphertext_and_tag)) << CaseName(test);
        ASSERT_TRUE(opened.ok()) << CaseName(test) << ": " << opened.status();
        EXPECT_EQ(ToHex(opened->span()), ToHex(plaintext)) << CaseName(test);
      } else {
        ASSERT_EQ(test["result"], "invalid") << CaseName(test) << ": no policy for this result";
        EXPECT_EQ(opened.status().code(), absl::StatusCode::kPermissionDenied) << CaseName(test);
      }
    }
  }
  ExpectAllCasesRan(vectors, cases_run);
  std::printf(
      "aes_gcm: %d cases, %d of them with key or IV sizes outside our API (checked to be "
      "rejected with INVALID_ARGUMENT)\n",
      cases_run, outside_our_sizes);
}

TEST(Wycheproof, HkdfSha256) {
  LOAD_WYCHEPROOF_OR_SKIP("hkdf_sha256_test.json", vectors);
  int cases_run = 0;
  for (const json& group : vectors["testGroups"]) {
    for (const json& test : group["tests"]) {
      ++cases_run;
      const SecretBytes pseudorandom_key =
          HkdfExtract(HexField(test["salt"]), HexField(test["ikm"]));
      absl::StatusOr<SecretBytes> output =
          HkdfExpand(pseudorandom_key.span(), HexField(test["info"]), test["size"].get<size_t>());
      if (test["result"] == "valid") {
        ASSERT_TRUE(output.ok()) << CaseName(test) << ": " << output.status();
        EXPECT_EQ(ToHex(output->span()), test["okm"].get<std::string>()) << CaseName(test);
      } else {
        ASSERT_EQ(test["result"], "invalid") << CaseName(test) << ": no policy for this result";
        EXPECT_EQ(output.status().code(), absl::StatusCode::kInvalidArgument) << CaseName(test);
      }
    }
  }
  ExpectAllCasesRan(vectors, cases_run);
}

TEST(Wycheproof, HmacSha256) {
  LOAD_WYCHEPROOF_OR_SKIP("hmac_sha256_test.json", vectors);
  int cases_run = 0;
  for (const json& group : vectors["testGroups"]) {
    const size_t tag_size = group["tagSize"].get<size_t>() / 8;
    ASSERT_LE(tag_size, kSha256Size);
    for (const json& test : group["tests"]) {
      ++cases_run;
      const SecretBytes tag = HmacSha256(HexField(test["key"]), HexField(test["msg"]));
      // A truncated tag is the prefix of the full one.
      const bool matches = ConstantTimeEquals(tag.span().first(tag_size), HexField(test["tag"]));
      if (test["result"] == "valid") {
        EXPECT_TRUE(matches) << CaseName(test);
      } else {
        ASSERT_EQ(test["result"], "invalid") << CaseName(test) << ": no policy for this result";
        EXPECT_FALSE(matches) << CaseName(test);
      }
    }
  }
  ExpectAllCasesRan(vectors, cases_run);
}

}  // namespace
}  // namespace art
