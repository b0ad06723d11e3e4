// Deriving node key pairs up a path of the ratchet tree:
//   parent = ExpandWithLabel(HKDF-Extract("", X25519(path child, other child's public)), "node", "", 32)
// except where the other child is a copy source (a blank leaf or a key-less node): then the parent
// takes the path child's key pair unchanged, so no one's key but the path's own contributes.
#ifndef ART_PROTOCOL_PATH_DERIVATION_H_
#define ART_PROTOCOL_PATH_DERIVATION_H_

#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "art/crypto/x25519.h"
#include "art/tree/public_tree.h"

namespace art {

// A node's key pair, as a member holds it.
using NodeKey = std::pair<NodeIndex, X25519PrivateKey>;

// The parent's key pair from one child's key pair and the other child's public key.
absl::StatusOr<X25519PrivateKey> DeriveParentKey(const X25519PrivateKey& child,
                                                 const X25519PublicKey& other_child);

// Key pairs for every node of |node|'s direct path in a tree of |leaf_count| leaves (which may be one
// more than |tree| has, for an append), bottom up, starting from |node_key|. Copath keys and copy
// sources are read from |tree|.
absl::StatusOr<std::vector<NodeKey>> DeriveAncestors(const PublicTree& tree, uint32_t leaf_count,
                                                     NodeIndex node, const X25519PrivateKey& node_key);

}  // namespace art

#endif  // ART_PROTOCOL_PATH_DERIVATION_H_
