"""The learner's record: profile, personalized learning plan and portfolio (``kind: learner``).

One YAML file per student (or rows of a bulk CSV, :mod:`.csvform`) becomes a :class:`Learner`
(:mod:`.model`); :mod:`.check` holds the rules ``mastery validate`` runs on them, :mod:`.load`
reads every record under some paths, and :mod:`.pace` measures each academic goal against the
dates its targets were mastered. These files hold personal data: nothing here logs their text,
and diagnostics name goal ids and target ids, never what the student wrote.
"""
