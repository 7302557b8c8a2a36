"""Tables and API schemas.

One ladder per entity: ``XBase`` (shared fields) → table model ``X`` / ``XCreate`` / ``XPublic``.
``Instruction`` is every instruction a dataset has seen: its seeds (origin ``seed``, always in the pool)
and every candidate (origin ``generated``, ``submitted`` or ``ingested``) with its decision. The novelty
pool of a dataset is its seeds plus its accepted candidates; their ids are the FAISS ids.
"""

from app.models.api_keys import ApiKey
from app.models.common import NAME_PATTERN, id_col, stored_id, utcnow
from app.models.datasets import Dataset, DatasetBase, DatasetCreate, DatasetPublic
from app.models.decisions import DecisionFields
from app.models.generations import Generation, GenerationPublic
from app.models.instances import (
    INSTANCE_ORIGINS,
    InstanceJobCreate,
    TaskInstance,
    TaskInstancePage,
    TaskInstancePublic,
)
from app.models.instructions import (
    INSTANCE_STAGE_DONE,
    INSTANCE_STAGE_PENDING,
    INSTANCE_STAGES,
    CandidateResult,
    CandidateSubmit,
    DecisionPublic,
    InstanceIn,
    Instruction,
    InstructionPage,
    InstructionPublic,
    SeedIn,
    SeedUpload,
    SeedUploadResult,
    SimilarItem,
    SimilarResult,
    initial_instance_stage,
)
from app.models.jobs import (
    JOB_STATES,
    TERMINAL_STATES,
    AutoStop,
    Job,
    JobCounts,
    JobCreate,
    JobPublic,
    JobTimeline,
    TimelineWindow,
)
from app.models.replays import (
    DecisionChange,
    DecisionChangePublic,
    Replay,
    ReplayExample,
    ReplayPublic,
    ReplayReport,
    ReplayRequest,
    ReplayTransition,
)
from app.models.reviews import (
    REVIEW_STATES,
    Agreement,
    QueueItem,
    Review,
    ReviewCreate,
    ReviewPublic,
    ReviewQueue,
)
from app.models.schedules import Schedule, ScheduleBase, ScheduleCreate, SchedulePublic
from app.models.snapshots import Snapshot, SnapshotCreate, SnapshotPublic
from app.models.templates import StoredValues, Template, TemplateCreate, TemplatePublic

__all__ = [
    "ApiKey",
    "AutoStop",
    "StoredValues",
    "Template",
    "TemplateCreate",
    "TemplatePublic",
    "DecisionFields",
    "NAME_PATTERN",
    "utcnow",
    "stored_id",
    "id_col",
    "DatasetBase",
    "Dataset",
    "DatasetCreate",
    "DatasetPublic",
    "Instruction",
    "INSTANCE_STAGE_PENDING",
    "INSTANCE_STAGE_DONE",
    "INSTANCE_STAGES",
    "initial_instance_stage",
    "InstructionPublic",
    "InstructionPage",
    "InstanceIn",
    "SeedIn",
    "SeedUpload",
    "SeedUploadResult",
    "CandidateSubmit",
    "DecisionPublic",
    "CandidateResult",
    "SimilarItem",
    "SimilarResult",
    "Generation",
    "GenerationPublic",
    "JOB_STATES",
    "TERMINAL_STATES",
    "JobCreate",
    "Job",
    "JobPublic",
    "JobTimeline",
    "TimelineWindow",
    "JobCounts",
    "ScheduleBase",
    "Schedule",
    "ScheduleCreate",
    "SchedulePublic",
    "INSTANCE_ORIGINS",
    "TaskInstance",
    "InstanceJobCreate",
    "TaskInstancePublic",
    "TaskInstancePage",
    "SnapshotCreate",
    "Snapshot",
    "SnapshotPublic",
    "Replay",
    "ReplayRequest",
    "ReplayReport",
    "ReplayTransition",
    "ReplayExample",
    "ReplayPublic",
    "DecisionChange",
    "DecisionChangePublic",
    "REVIEW_STATES",
    "Review",
    "ReviewCreate",
    "ReviewPublic",
    "QueueItem",
    "ReviewQueue",
    "Agreement",
]
