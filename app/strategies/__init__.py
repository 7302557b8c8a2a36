"""The service's side of generation strategies: what it lends them (pool items, search, templates, the
model's chat template) and the checks a job's strategy passes when the job is created."""
