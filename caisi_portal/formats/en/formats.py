"""How the portal writes dates, in every page, statement and email: "December 6, 2026".

Templates write `{{ value|date }}` for a day and `{{ value|date:"DATETIME_FORMAT" }}`
for a moment ("December 6, 2026, 14:05 EST"); Python code uses
`django.utils.formats.date_format` with the same names.
"""

DATE_FORMAT = "F j, Y"
DATETIME_FORMAT = "F j, Y, H:i T"
SHORT_DATE_FORMAT = "F j, Y"
SHORT_DATETIME_FORMAT = "F j, Y, H:i T"
