// SQL text that both backends run unchanged (it uses no placeholders and only standard SQL).
#ifndef STORAGE_SHARED_SQL_H_
#define STORAGE_SHARED_SQL_H_

namespace artd {

// Per tenant (every tenant, by id): its groups, and the leaves whose newest version (the one current
// at the group's epoch) holds a member. Columns: tenant_id, groups, members. The newest-version
// subquery is a primary-key range read on leaves.
inline constexpr const char* kTenantUsageSql = R"sql(
SELECT t.tenant_id,
  (SELECT COUNT(*) FROM groups g WHERE g.tenant_id = t.tenant_id),
  (SELECT COUNT(*) FROM leaves l
     WHERE l.tenant_id = t.tenant_id AND l.member_id <> ''
       AND l.epoch_from = (SELECT MAX(n.epoch_from) FROM leaves n
                           WHERE n.tenant_id = l.tenant_id AND n.group_id = l.group_id AND n.leaf = l.leaf))
FROM tenants t ORDER BY t.tenant_id
)sql";

}  // namespace artd

#endif  // STORAGE_SHARED_SQL_H_
