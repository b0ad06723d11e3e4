// The paper's comparison, measured: ART against pairwise channels and sender keys (pairwise.h,
// sender_keys.h), all on cipher suite 1, for groups of n members. See docs/baselines.md.
//
//   bazel run -c opt //bench/baselines:compare -- --csv /tmp/baselines.csv
//
// Options: --sizes 10,100,1000,10000  --repetitions 5  --setup-repetitions 3  --payload 1024
//          --min-batch-ms 20  --csv FILE
//
// Figures, per design and n (member 0 is the sender, creator and healer; member n-1 a recipient):
//   message bytes / CPU    what the sender uploads for one group message of --payload bytes, and
//                          the CPU to make it (ART: MemberGroup::Protect)
//   heal bytes / CPU       what member 0 uploads, and its CPU, to heal its own compromise (ART: an
//                          update commit, MemberGroup::CreateUpdate)
//   heal recipient CPU     what one recipient spends on that heal (ART: ProcessCommit at leaf n-1)
//   setup bytes / CPU      the creator's upload and CPU to set up a group of n from prekey bundles
//                          (ART: MemberGroup::Create, on one thread like the baselines)
// CPU is process CPU time (CLOCK_PROCESS_CPUTIME_ID, so a neighbour's load does not count), per
// operation: the median over repetitions of a batch's mean, the three designs' repetitions
// interleaved. Every baseline figure is also given as a ratio to ART's from the same run.
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "art/demo/population.h"
#include "art/protocol/member_group.h"
#include "bench/baselines/pairwise.h"
#include "bench/baselines/sender_keys.h"

namespace art::baselines {
namespace {

// ---------------------------------------------------------------------------------------------
// Errors: a failed operation makes every figure meaningless.

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "compare: %s\n", message.c_str());
  std::exit(1);
}
template <typename T>
T OrDie(absl::StatusOr<T> value) {
  if (!value.ok()) Die(value.status().ToString());
  return *std::move(value);
}
void OrDie(const absl::Status& status) {
  if (!status.ok()) Die(status.ToString());
}

// ---------------------------------------------------------------------------------------------
// Options.

struct Options {
  std::vector<uint32_t> sizes = {10, 100, 1000, 10000};
  int repetitions = 5;
  int setup_repetitions = 3;
  size_t payload = 1024;
  double min_batch_seconds = 0.02;
  std::string csv;
};

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Die(absl::StrCat("missing value for ", flag));
    const std::string value = argv[++i];
    int number = 0;
    if (flag == "--sizes") {
      options.sizes.clear();
      for (absl::string_view part : absl::StrSplit(value, ',')) {
        if (!absl::SimpleAtoi(part, &number) || number < 2) Die("--sizes: integers >= 2");
        options.sizes.push_back(static_cast<uint32_t>(number));
      }
    } else if (flag == "--repetitions" && absl::SimpleAtoi(value, &number) && number > 0) {
      options.repetitions = number;
    } else if (flag == "--setup-repetitions" && absl::SimpleAtoi(value, &number) && number > 0) {
      options.setup_repetitions = number;
    } else if (flag == "--payload" && absl::SimpleAtoi(value, &number) && number >= 0) {
      options.payload = static_cast<size_t>(number);
    } else if (flag == "--min-batch-ms" && absl::SimpleAtoi(value, &number) && number > 0) {
      options.min_batch_seconds = number / 1000.0;
    } else if (flag == "--csv") {
      options.csv = value;
    } else {
      Die(absl::StrCat("bad option ", flag, " ", value));
    }
  }
  return options;
}

// ---------------------------------------------------------------------------------------------
// CPU timing.

double ProcessCpuSeconds() {
  timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// One measured operation: runs it once, with its input prepared outside the clock (e.g. a copy of
// the state it consumes), and returns the CPU seconds it took.
using TimedOp = std::function<double()>;

template <typename Input>
TimedOp Timed(std::function<Input()> prepare, std::function<void(Input&)> op) {
  return [prepare = std::move(prepare), op = std::move(op)] {
    Input input = prepare();
    const double start = ProcessCpuSeconds();
    op(input);
    return ProcessCpuSeconds() - start;
  };
}

// For operations that need no fresh input.
TimedOp Timed(std::function<void()> op) {
  return [op = std::move(op)] {
    const double start = ProcessCpuSeconds();
    op();
    return ProcessCpuSeconds() - start;
  };
}

// For each of |ops|, the median over |repetitions| of its mean CPU seconds in a batch. Repetitions
// are interleaved (repetition r runs a batch of every op in turn), so that a burst of load from
// neighbours falls on all designs alike and their ratios stay comparable. With |min_batch_seconds|
// > 0 a first, untimed run of each op sizes its batches to at least that much CPU; with 0 a batch is
// one op (setups, long enough alone).
std::vector<double> InterleavedMedians(int repetitions, double min_batch_seconds,
                                       const std::vector<TimedOp>& ops) {
  std::vector<int> batches(ops.size(), 1);
  if (min_batch_seconds > 0) {
    for (size_t i = 0; i < ops.size(); ++i) {
      const double one = std::max(ops[i](), 1e-7);
      batches[i] = static_cast<int>(std::clamp(std::ceil(min_batch_seconds / one), 1.0, 10000.0));
    }
  }
  std::vector<std::vector<double>> means(ops.size());
  for (int repetition = 0; repetition < repetitions; ++repetition) {
    for (size_t i = 0; i < ops.size(); ++i) {
      double total = 0;
      for (int k = 0; k < batches[i]; ++k) total += ops[i]();
      means[i].push_back(total / batches[i]);
    }
  }
  std::vector<double> medians;
  for (std::vector<double>& op_means : means) medians.push_back(Median(std::move(op_means)));
  return medians;
}

// ---------------------------------------------------------------------------------------------
// The figures.

enum class Design { kArt, kPairwise, kSenderKeys };
constexpr Design kDesigns[] = {Design::kArt, Design::kPairwise, Design::kSenderKeys};

const char* DesignName(Design design) {
  switch (design) {
    case Design::kArt: return "ART";
    case Design::kPairwise: return "pairwise";
    case Design::kSenderKeys: return "sender keys";
  }
  return "";
}

struct Metric {
  const char* key;
  const char* title;
  const char* unit;
};
const Metric kMetrics[] = {
    {"message_bytes", "Message: bytes sent", "B"},
    {"message_cpu_us", "Message: sender CPU", "us"},
    {"heal_bytes", "Heal: bytes sent", "B"},
    {"heal_cpu_us", "Heal: healer CPU", "us"},
    {"heal_recipient_cpu_us", "Heal: CPU per recipient", "us"},
    {"setup_bytes", "Setup: bytes sent", "B"},
    {"setup_cpu_us", "Setup: creator CPU", "us"},
};
constexpr int kMetricCount = sizeof(kMetrics) / sizeof(kMetrics[0]);

// figures[metric][design] for one n.
using Figures = std::array<std::array<double, 3>, kMetricCount>;

void Set(Figures& figures, const char* key, Design design, double value) {
  for (int m = 0; m < kMetricCount; ++m) {
    if (std::string(kMetrics[m].key) == key) figures[m][static_cast<int>(design)] = value;
  }
}

// Sets |key| for ART, pairwise and sender keys, in that order, from |seconds| (as microseconds).
void SetMicroseconds(Figures& figures, const char* key, const std::vector<double>& seconds) {
  for (Design design : kDesigns) Set(figures, key, design, 1e6 * seconds[static_cast<int>(design)]);
}

const std::string kGroupId = "group-1";
constexpr uint32_t kContentType = 1;

// ---------------------------------------------------------------------------------------------
// One group size.

Figures Measure(uint32_t n, const Options& options) {
  Figures figures{};
  std::fprintf(stderr, "n = %u: members...\n", n);
  demo::Population population = demo::MakePopulation(static_cast<int>(n));
  GroupConfig config = population.config();
  config.setup_threads = 1;  // All three designs on one thread.
  const MemberIdentity& creator = population.devices[0]->identity;
  const testing::TestMember& recipient = *population.devices[n - 1];
  const Bytes payload(options.payload, 0x5a);
  const int reps = options.repetitions;
  const double batch = options.min_batch_seconds;

  // Setup. Each repetition is one whole setup per design; the last one's result is kept.
  std::fprintf(stderr, "n = %u: setups...\n", n);
  std::optional<MemberGroup::Created> art;
  std::optional<PairwiseFanout::Created> pairwise;
  std::optional<SenderKeySender::Created> sender_keys;
  SetMicroseconds(figures, "setup_cpu_us", InterleavedMedians(options.setup_repetitions, 0, {
      Timed([&] { art = OrDie(MemberGroup::Create(config, creator, kGroupId, population.bundles)); }),
      Timed([&] {
        pairwise = OrDie(PairwiseFanout::Create(config, creator, population.bundles, AsBytes(kGroupId)));
      }),
      Timed([&] { sender_keys = OrDie(SenderKeySender::Create(config, creator, kGroupId, population.bundles)); }),
  }));
  Set(figures, "setup_bytes", Design::kArt, static_cast<double>(art->setup.ByteSizeLong()));
  Set(figures, "setup_bytes", Design::kPairwise, static_cast<double>(TotalWireSize(pairwise->setup_messages)));
  Set(figures, "setup_bytes", Design::kSenderKeys,
      static_cast<double>(TotalWireSize(sender_keys->setup_messages)));
  size_t roster = 0;
  for (const v1::SetupMember& member : art->setup.members()) roster += member.credential().ByteSizeLong();
  std::fprintf(stderr, "n = %u: ART's Setup carries the roster: %zu credentials, %zu B of its %zu B\n", n,
               static_cast<size_t>(art->setup.members_size()), roster, art->setup.ByteSizeLong());

  // One group message.
  std::fprintf(stderr, "n = %u: messages...\n", n);
  MemberGroup& art_creator = art->group;
  size_t art_bytes = 0, pairwise_bytes = 0, sender_keys_bytes = 0;
  SetMicroseconds(figures, "message_cpu_us", InterleavedMedians(reps, batch, {
      Timed([&] { art_bytes = OrDie(art_creator.Protect(kContentType, payload)).ByteSizeLong(); }),
      Timed([&] { pairwise_bytes = TotalWireSize(OrDie(pairwise->fanout.Send(payload))); }),
      Timed([&] { sender_keys_bytes = OrDie(sender_keys->sender.Send(payload)).WireSize(); }),
  }));
  Set(figures, "message_bytes", Design::kArt, static_cast<double>(art_bytes));
  Set(figures, "message_bytes", Design::kPairwise, static_cast<double>(pairwise_bytes));
  Set(figures, "message_bytes", Design::kSenderKeys, static_cast<double>(sender_keys_bytes));

  // The healer's side. Each baseline heal's message to member n-1 is kept, in order: a recipient
  // must take every DH ratchet step.
  std::fprintf(stderr, "n = %u: heals...\n", n);
  std::optional<PendingCommit> update;
  std::vector<PairwiseMessage> pairwise_heal, pairwise_heals_to_recipient;
  std::vector<PairwiseMessage> sender_keys_heal, sender_keys_heals_to_recipient;
  SetMicroseconds(figures, "heal_cpu_us", InterleavedMedians(reps, batch, {
      Timed([&] { update = OrDie(art_creator.CreateUpdate()); }),
      Timed([&] {
        pairwise_heal = OrDie(pairwise->fanout.HealAndSend({}));
        pairwise_heals_to_recipient.push_back(pairwise_heal.back());
      }),
      Timed([&] {
        sender_keys_heal = OrDie(sender_keys->sender.Heal());
        sender_keys_heals_to_recipient.push_back(sender_keys_heal.back());
      }),
  }));
  Set(figures, "heal_bytes", Design::kArt, static_cast<double>(update->commit.ByteSizeLong()));
  Set(figures, "heal_bytes", Design::kPairwise, static_cast<double>(TotalWireSize(pairwise_heal)));
  Set(figures, "heal_bytes", Design::kSenderKeys, static_cast<double>(TotalWireSize(sender_keys_heal)));

  // One recipient (member n-1) joins each group from its setup message and takes in every heal but
  // the last; the last one is timed on a fresh copy of that state each time. This also checks that
  // the recipient reads what was sent.
  std::fprintf(stderr, "n = %u: recipients...\n", n);
  PrekeySecrets prekeys = recipient.prekeys;
  const MemberGroup art_recipient =
      OrDie(MemberGroup::JoinFromSetup(config, recipient.identity, &prekeys, art->setup));

  auto accept = [&](const PrekeyMessage& setup, SecretBytes* first_payload) {
    PrekeySecrets own_prekeys = recipient.prekeys;
    PairwiseSession session =
        OrDie(PairwiseSession::Accept(recipient.identity, n - 1, 0, &own_prekeys, setup.header));
    *first_payload = OrDie(session.Decrypt(setup.message));
    return session;
  };
  SecretBytes group_id;
  PairwiseSession pairwise_recipient = accept(pairwise->setup_messages.back(), &group_id);
  if (group_id != SecretBytes(AsBytes(kGroupId))) Die("pairwise setup payload mismatch");
  pairwise_heals_to_recipient.pop_back();
  for (const PairwiseMessage& heal : pairwise_heals_to_recipient) OrDie(pairwise_recipient.Decrypt(heal));

  struct SenderKeyRecipient {
    PairwiseSession session;
    SenderKeyStore store;
  };
  auto take_in = [](SenderKeyRecipient& member, const PairwiseMessage& heal) {
    const SecretBytes fresh = OrDie(member.session.Decrypt(heal));
    OrDie(member.store.Install(OrDie(SenderKeyDistribution::Decode(fresh.span()))));
  };
  SecretBytes distribution;
  SenderKeyRecipient sender_keys_recipient{accept(sender_keys->setup_messages.back(), &distribution), {}};
  OrDie(sender_keys_recipient.store.Install(OrDie(SenderKeyDistribution::Decode(distribution.span()))));
  sender_keys_heals_to_recipient.pop_back();
  for (const PairwiseMessage& heal : sender_keys_heals_to_recipient) take_in(sender_keys_recipient, heal);

  SetMicroseconds(figures, "heal_recipient_cpu_us", InterleavedMedians(reps, batch, {
      Timed<MemberGroup>([&] { return art_recipient; },
                         [&](MemberGroup& group) { OrDie(group.ProcessCommit(update->commit)); }),
      Timed<PairwiseSession>([&] { return pairwise_recipient; },
                             [&](PairwiseSession& session) { OrDie(session.Decrypt(pairwise_heal.back())); }),
      Timed<SenderKeyRecipient>([&] { return sender_keys_recipient; },
                                [&](SenderKeyRecipient& member) { take_in(member, sender_keys_heal.back()); }),
  }));
  return figures;
}

// ---------------------------------------------------------------------------------------------
// Output.

std::string Format(double value) {
  if (value >= 1e6) return absl::StrFormat("%.3g M", value / 1e6);
  if (value >= 1e4) return absl::StrFormat("%.0f k", value / 1e3);
  if (value >= 100) return absl::StrFormat("%.0f", value);
  return absl::StrFormat("%.3g", value);
}

std::string FormatRatio(double ratio) {
  return ratio >= 100 ? absl::StrFormat("%.0fx", ratio) : absl::StrFormat("%.2gx", ratio);
}

void PrintTable(const std::vector<uint32_t>& sizes, const std::vector<Figures>& all) {
  std::printf("| figure | n | ART | pairwise | pairwise / ART | sender keys | sender keys / ART |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (int m = 0; m < kMetricCount; ++m) {
    for (size_t i = 0; i < sizes.size(); ++i) {
      const auto& row = all[i][m];
      const std::string title = i == 0 ? absl::StrCat(kMetrics[m].title, " (", kMetrics[m].unit, ")") : "";
      std::printf("| %s | %u | %s | %s | %s | %s | %s |\n", title.c_str(), sizes[i], Format(row[0]).c_str(), Format(row[1]).c_str(),
                  FormatRatio(row[1] / row[0]).c_str(), Format(row[2]).c_str(),
                  FormatRatio(row[2] / row[0]).c_str());
    }
  }
}

void WriteCsv(const std::string& path, const std::vector<uint32_t>& sizes, const std::vector<Figures>& all) {
  std::ofstream out(path);
  if (!out) Die(absl::StrCat("cannot write ", path));
  out << "metric,title,unit,n,design,value,ratio_to_art\n";
  for (int m = 0; m < kMetricCount; ++m) {
    for (size_t i = 0; i < sizes.size(); ++i) {
      for (Design design : kDesigns) {
        const double value = all[i][m][static_cast<int>(design)];
        out << kMetrics[m].key << ',' << kMetrics[m].title << ',' << kMetrics[m].unit << ',' << sizes[i]
            << ',' << DesignName(design) << ',' << absl::StrFormat("%.6g", value) << ','
            << absl::StrFormat("%.6g", value / all[i][m][0]) << '\n';
      }
    }
  }
  if (!out.good()) Die(absl::StrCat("writing ", path, " failed"));
}

int Main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  std::vector<Figures> all;
  for (uint32_t n : options.sizes) all.push_back(Measure(n, options));
  std::printf("Payload %zu B; CPU = median of %d repetitions (setup: %d), process CPU time.\n\n",
              options.payload, options.repetitions, options.setup_repetitions);
  PrintTable(options.sizes, all);
  if (!options.csv.empty()) WriteCsv(options.csv, options.sizes, all);
  return 0;
}

}  // namespace
}  // namespace art::baselines

int main(int argc, char** argv) { return art::baselines::Main(argc, argv); }
