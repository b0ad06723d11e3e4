// The steps of Store::ReadGroupView, shared by the backends. Each backend runs them inside its own read
// transaction and supplies its own queries.

#ifndef ARTD_STORAGE_GROUP_VIEW_READ_H_
#define ARTD_STORAGE_GROUP_VIEW_READ_H_

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "art/base/status_macros.h"
#include "storage/store.h"

namespace artd {

// Reads the current header through |c|, lets |select| choose from it, then reads the chosen nodes and
// leaves as of the chosen epoch (which must be retained: |HeaderAt| reports NOT_FOUND otherwise). The
// queries are the backend's: CurrentEpoch(c, tenant, group), HeaderAt(c, tenant, group, epoch), and
// LoadNodes / LoadLeaves(c, tenant, group, epoch, indices).
template <auto CurrentEpoch, auto HeaderAt, auto LoadNodes, auto LoadLeaves, typename Connection>
absl::StatusOr<GroupView> ReadGroupViewIn(
    Connection& c, const std::string& tenant_id, const std::string& group_id,
    absl::FunctionRef<absl::StatusOr<TreeSelection>(const GroupHeaderRecord&)> select) {
  GroupView view;
  ART_ASSIGN_OR_RETURN(uint64_t current, CurrentEpoch(c, tenant_id, group_id));
  ART_ASSIGN_OR_RETURN(view.current, HeaderAt(c, tenant_id, group_id, current));
  ART_ASSIGN_OR_RETURN(TreeSelection selection, select(view.current));
  if (selection.epoch != current) ART_RETURN_IF_ERROR(HeaderAt(c, tenant_id, group_id, selection.epoch).status());
  ART_ASSIGN_OR_RETURN(view.nodes, LoadNodes(c, tenant_id, group_id, selection.epoch, selection.nodes));
  ART_ASSIGN_OR_RETURN(view.leaves, LoadLeaves(c, tenant_id, group_id, selection.epoch, selection.leaves));
  return view;
}

}  // namespace artd

#endif  // ARTD_STORAGE_GROUP_VIEW_READ_H_
