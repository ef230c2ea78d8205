-- The queue job that currently owns an execution. A worker runs consecutive nodes inside one job, so the job's
-- own data no longer says which step it is for; a job is current exactly when this column names it (a retry of
-- a job whose worker died keeps its id and resumes from next_node; a job superseded by a newer one is dropped).
-- Rows from before this column (NULL) fall back to matching the step and attempt in the job's data.
ALTER TABLE executions ADD COLUMN job_id text;
