-- Schema of release 57ecda4 (SQLModel.metadata.create_all), sqlite dialect: the database a
-- previous release left behind, used to test that migrations upgrade it.
CREATE TABLE dataset (
	name VARCHAR(64) NOT NULL, 
	description VARCHAR(2000) NOT NULL, 
	rouge_threshold FLOAT NOT NULL, 
	embedding_threshold FLOAT NOT NULL, 
	heuristics_preset VARCHAR(32) NOT NULL, 
	disabled_rules JSON NOT NULL, 
	num_human_examples INTEGER NOT NULL, 
	num_machine_examples INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_dataset_name ON dataset (name);

CREATE TABLE job (
	id INTEGER NOT NULL, 
	dataset_id INTEGER NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	target INTEGER NOT NULL, 
	max_requests INTEGER NOT NULL, 
	seed INTEGER, 
	requests INTEGER NOT NULL, 
	generated INTEGER NOT NULL, 
	accepted INTEGER NOT NULL, 
	rejected INTEGER NOT NULL, 
	counts JSON NOT NULL, 
	prompt_tokens INTEGER NOT NULL, 
	completion_tokens INTEGER NOT NULL, 
	error VARCHAR, 
	cancel_requested BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(dataset_id) REFERENCES dataset (id)
);

CREATE INDEX ix_job_dataset_id ON job (dataset_id);

CREATE INDEX ix_job_status ON job (status);

CREATE TABLE generation (
	id INTEGER NOT NULL, 
	dataset_id INTEGER NOT NULL, 
	job_id INTEGER, 
	model_id VARCHAR NOT NULL, 
	prompt TEXT NOT NULL, 
	params JSON NOT NULL, 
	sample_index INTEGER NOT NULL, 
	completion TEXT NOT NULL, 
	finish_reason VARCHAR NOT NULL, 
	prompt_tokens INTEGER NOT NULL, 
	completion_tokens INTEGER NOT NULL, 
	seconds FLOAT NOT NULL, 
	parse_dropped JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(dataset_id) REFERENCES dataset (id), 
	FOREIGN KEY(job_id) REFERENCES job (id)
);

CREATE INDEX ix_generation_dataset_id ON generation (dataset_id);

CREATE INDEX ix_generation_job_id ON generation (job_id);

CREATE TABLE instruction (
	id INTEGER NOT NULL, 
	dataset_id INTEGER NOT NULL, 
	origin VARCHAR(16) NOT NULL, 
	origin_key VARCHAR(128), 
	instruction TEXT NOT NULL, 
	name VARCHAR, 
	instances JSON, 
	is_classification BOOLEAN, 
	accepted BOOLEAN NOT NULL, 
	rule VARCHAR(64), 
	detail VARCHAR, 
	max_rouge_l FLOAT, 
	rouge_neighbor_id INTEGER, 
	max_cosine FLOAT, 
	cosine_neighbor_id INTEGER, 
	embedding BLOB, 
	job_id INTEGER, 
	generation_id INTEGER, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (dataset_id, origin_key), 
	FOREIGN KEY(dataset_id) REFERENCES dataset (id), 
	FOREIGN KEY(job_id) REFERENCES job (id), 
	FOREIGN KEY(generation_id) REFERENCES generation (id)
);

CREATE INDEX ix_instruction_accepted ON instruction (accepted);

CREATE INDEX ix_instruction_dataset_id ON instruction (dataset_id);

CREATE INDEX ix_instruction_job_id ON instruction (job_id);

CREATE INDEX ix_instruction_rule ON instruction (rule);
