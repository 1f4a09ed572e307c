from . import test_queue_jobs
from . import test_queue_concurrency
from . import test_queue_rights
from . import test_i18n
