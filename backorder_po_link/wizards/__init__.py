from . import backorder_auto_link_wizard
from . import backorder_manual_link_wizard
