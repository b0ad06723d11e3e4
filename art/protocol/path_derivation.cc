#include "art/protocol/path_derivation.h"

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/crypto/hash.h"
#include "art/suite/labeled.h"

namespace art {

absl::StatusOr<X25519PrivateKey> DeriveParentKey(const X25519PrivateKey& child,
                                                 const X25519PublicKey& other_child) {
  ART_ASSIGN_OR_RETURN(SecretBytes shared, child.Agree(other_child));
  SecretBytes extracted = HkdfExtract({}, shared.span());
  ART_ASSIGN_OR_RETURN(SecretBytes node_secret,
                       ExpandWithLabel(extracted.span(), "node", {}, kSecretSize));
  return X25519PrivateKey::FromSecret(node_secret.span());
}

absl::StatusOr<std::vector<NodeKey>> DeriveAncestors(const PublicTree& tree, uint32_t leaf_count,
                                                     NodeIndex node,
                                                     const X25519PrivateKey& node_key) {
  std::vector<NodeKey> ancestors;
  // |current| points into the vector: reserve the longest possible path so it never moves.
  ancestors.reserve(32);
  const NodeIndex root = Root(leaf_count);
  const X25519PrivateKey* current = &node_key;
  while (node != root) {
    const NodeIndex sibling = Sibling(node, leaf_count);
    const NodeIndex parent = Parent(node, leaf_count);
    if (tree.IsCopySource(sibling)) {
      ancestors.emplace_back(parent, *current);
    } else {
      const X25519PublicKey* sibling_key = tree.key(sibling);
      if (sibling_key == nullptr) {
        return absl::InternalError(absl::StrCat("node ", sibling, " has no public key"));
      }
      ART_ASSIGN_OR_RETURN(X25519PrivateKey parent_key, DeriveParentKey(*current, *sibling_key));
      ancestors.emplace_back(parent, std::move(parent_key));
    }
    current = &ancestors.back().second;
    node = parent;
  }
  return ancestors;
}

}  // namespace art
