// What a tc classifier or action returns: TC_ACT_* of include/uapi/linux/pkt_cls.h.

export const TC_ACT_UNSPEC = -1;
export const TC_ACT_OK = 0;
export const TC_ACT_RECLASSIFY = 1;
export const TC_ACT_SHOT = 2;
export const TC_ACT_PIPE = 3;
export const TC_ACT_STOLEN = 4;
export const TC_ACT_QUEUED = 5;
export const TC_ACT_REPEAT = 6;
export const TC_ACT_REDIRECT = 7;
export const TC_ACT_TRAP = 8;

export const TC_ACT_NAMES: Readonly<Record<number, string>> = {
  [TC_ACT_UNSPEC]: 'TC_ACT_UNSPEC', [TC_ACT_OK]: 'TC_ACT_OK', [TC_ACT_RECLASSIFY]: 'TC_ACT_RECLASSIFY',
  [TC_ACT_SHOT]: 'TC_ACT_SHOT', [TC_ACT_PIPE]: 'TC_ACT_PIPE', [TC_ACT_STOLEN]: 'TC_ACT_STOLEN',
  [TC_ACT_QUEUED]: 'TC_ACT_QUEUED', [TC_ACT_REPEAT]: 'TC_ACT_REPEAT', [TC_ACT_REDIRECT]: 'TC_ACT_REDIRECT',
  [TC_ACT_TRAP]: 'TC_ACT_TRAP',
};
