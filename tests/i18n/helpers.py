"""What the i18n tests share."""

from __future__ import annotations

import re

# Letters only Vietnamese uses (with their tone marks): any of them in the bot's own words on an English screen
# means a string escaped translation.
VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.IGNORECASE)
