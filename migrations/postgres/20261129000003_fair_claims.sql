-- Fair claiming: tenants with claimable rows are found by walking this index (one probe per
-- tenant), and each tenant's share is claimed in due order from it.
CREATE INDEX domains_claimable_by_tenant ON domains (tenant_id, next_attempt_at, id) WHERE status = 'pending';
