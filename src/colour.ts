/** The two slots a service runs in. Exactly one is active (serves traffic) at any time. */
export const COLOURS = ["blue", "green"] as const;
export type Colour = (typeof COLOURS)[number];

export function otherColour(colour: Colour): Colour {
  return colour === "blue" ? "green" : "blue";
}

export function isColour(value: unknown): value is Colour {
  return value === "blue" || value === "green";
}
