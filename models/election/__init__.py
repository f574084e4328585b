"""Village-head elections: reports with revisions, the vote-count record, recognition, vacancies."""
