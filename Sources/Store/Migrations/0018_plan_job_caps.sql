-- whago-jobs schema, version 18: caps on the jobs a tenant submits over HTTP, as plan data
-- (NULL: unlimited). scheduled_jobs: jobs of the tenant waiting in one queue for a time still to
-- come; job_payload_bytes: one job's payload. Our defaults: free 100 and 16 KiB, business 10,000
-- and 64 KiB, enterprise 100,000 and 256 KiB.
ALTER TABLE plans ADD COLUMN scheduled_jobs int CHECK (scheduled_jobs >= 0);
ALTER TABLE plans ADD COLUMN job_payload_bytes int CHECK (job_payload_bytes >= 0);
UPDATE plans SET
  scheduled_jobs = CASE name WHEN 'free' THEN 100 WHEN 'business' THEN 10000 WHEN 'enterprise' THEN 100000 END,
  job_payload_bytes = CASE name WHEN 'free' THEN 16384 WHEN 'business' THEN 65536 WHEN 'enterprise' THEN 262144 END
WHERE name IN ('free', 'business', 'enterprise');
