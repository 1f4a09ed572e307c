from . import backorder_allocator
from . import backorder_purchase_report
