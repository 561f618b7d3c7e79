"""Scoring of questionnaires defined as data (SPEC §3).

A scored question is a property of `respuestas` whose options carry `x-points`; its
`x-dimension` names the factor. Changing a weight or adding a question is a JSON edit.
"""


def _questions(schema: dict) -> dict:
    respuestas = schema.get("properties", {}).get("respuestas", {})
    return {name: q for name, q in respuestas.get("properties", {}).items()
            if any("x-points" in option for option in q.get("oneOf", []))}


def max_points(schema: dict) -> float:
    return sum(max(o.get("x-points", 0) for o in q["oneOf"]) for q in _questions(schema).values())


def score_questionnaire(schema: dict, respuestas: dict) -> dict:
    """Sum of the chosen options' points, normalised to 0–100, overall and per dimension.

    An unanswered question scores 0; an answer that is not an option is an error.
    """
    if not isinstance(respuestas, dict):
        raise ValueError("las respuestas deben ser un objeto")
    got: dict[str, float] = {}
    top: dict[str, float] = {}
    for name, question in _questions(schema).items():
        points = {o["const"]: o.get("x-points", 0) for o in question["oneOf"] if "const" in o}
        dimension = question.get("x-dimension", "general")
        top[dimension] = top.get(dimension, 0) + max(points.values())
        got.setdefault(dimension, 0)
        if name in respuestas:
            answer = respuestas[name]
            if answer not in points:
                raise ValueError(f"Respuesta no válida para la pregunta '{name}': '{answer}'")
            got[dimension] += points[answer]
    total_top = sum(top.values())

    def percent(value, maximum):
        return round(100 * value / maximum, 1) if maximum else 0.0

    return {
        "puntaje": percent(sum(got.values()), total_top),
        "dimensiones": {dim: percent(got[dim], top[dim]) for dim in top},
    }
