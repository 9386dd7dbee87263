//! The two operations Redis has no single command for, as Lua scripts: each is one atomic round trip.

use std::sync::LazyLock;

use redis::{Cmd, Script};

/// A Lua script, sent as `EVALSHA` and, when the server doesn't have it yet, as `EVAL`.
pub(crate) struct LuaScript {
    script: Script,
    source: &'static str,
}

impl LuaScript {
    fn new(source: &'static str) -> Self {
        LuaScript {
            script: Script::new(source),
            source,
        }
    }

    /// `EVALSHA <sha> 1 <key> <args…>`: what is sent first.
    pub(crate) fn evalsha(&self, key: &str, args: &[&[u8]]) -> Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(self.script.get_hash()).arg(1).arg(key);
        for arg in args {
            cmd.arg(*arg);
        }
        cmd
    }

    /// `EVAL <source> 1 <key> <args…>`: after a `NOSCRIPT` reply (a restarted server, or another
    /// node of a cluster); it also caches the script on that server for the next `EVALSHA`.
    pub(crate) fn eval(&self, key: &str, args: &[&[u8]]) -> Cmd {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(self.source).arg(1).arg(key);
        for arg in args {
            cmd.arg(*arg);
        }
        cmd
    }
}

/// `incr(key, delta)`: the reply is `{0}` when the key is missing, `{1, "<new value>"}` after the
/// increment, `{2}` when the stored value is not a decimal integer and `{3}` when the result (or the
/// stored integer itself) leaves the signed 64-bit range. The value is unchanged unless the reply is 1,
/// and its expiry is kept (`INCRBY` keeps it).
///
/// `INCRBY` does the parsing: Redis reads the value as a signed 64-bit decimal with no sign but `-`,
/// no spaces and no leading zeros, so a JSON float, bool, string or `null` is refused. Its one error
/// message covers both "not an integer" and "out of range"; a value that is all digits tells them
/// apart. The new value is read back with `GET` because Lua numbers are doubles, which would round
/// results beyond 2^53.
pub(crate) static INCR: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r"
local value = redis.pcall('GET', KEYS[1])
if value == false then return {0} end
if type(value) == 'table' then return {2} end
local result = redis.pcall('INCRBY', KEYS[1], ARGV[1])
if type(result) == 'table' and result.err then
  if string.find(result.err, 'overflow', 1, true) or string.match(value, '^%-?[1-9]%d*$') then
    return {3}
  end
  return {2}
end
return {1, redis.call('GET', KEYS[1])}
",
    )
});

/// `touch(key, never)`: `PERSIST` if the key exists, and 1 or 0 for whether it does. `PERSIST` alone
/// replies 0 for a key that has no expiry to remove, which Django's Redis backend returns as
/// "the key doesn't exist" (Django's `RedisCache.touch`); touch reports existence on every backend.
pub(crate) static PERSIST: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('PERSIST', KEYS[1])
return 1
",
    )
});
