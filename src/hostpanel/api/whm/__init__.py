"""WHM API 1 (and the frozen API 0 replies billing systems still read): `/json-api/<function>` on the WHM port."""
