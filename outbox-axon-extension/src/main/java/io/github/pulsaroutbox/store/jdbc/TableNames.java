package io.github.pulsaroutbox.store.jdbc;

import java.util.regex.Pattern;

/**
 * The names this extension accepts for its tables (outbox, inbox): letters, digits and underscores, starting with a
 * letter or underscore, optionally prefixed by a schema, at most 50 characters each. Only such names are ever put
 * into SQL text; every value is a bind parameter.
 */
public final class TableNames {

    private static final Pattern VALID = Pattern.compile("([A-Za-z_][A-Za-z0-9_]{0,49}\\.)?[A-Za-z_][A-Za-z0-9_]{0,49}");

    private TableNames() {
    }

    /**
     * @param what  what the table is, for the message ("outbox", "inbox")
     * @param table the configured name
     * @throws IllegalArgumentException naming the problem when {@code table} is not a valid table name
     */
    public static void validate(String what, String table) {
        if (table == null || !VALID.matcher(table).matches()) {
            throw new IllegalArgumentException(
                    "Invalid " + what + " table name '" + table + "': use letters, digits and underscores, starting "
                            + "with a letter or underscore, optionally prefixed by a schema ('schema.table'), at most "
                            + "50 characters each");
        }
    }
}
