from . import backorder_auto_link_wizard
