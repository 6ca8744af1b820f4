"""What search announces. Analytics subscribes; search never imports analytics."""

from django.dispatch import Signal

# Sent by the results and suggest views after the search ran, with kwargs
# query (str), result_count (int), request (HttpRequest), source ("results", or "fallback" when
# PostgreSQL answered the results page; "suggest" for every suggestion request, whichever engine answered).
search_performed = Signal()
