package io.github.pulsaroutbox.store;

import io.github.pulsaroutbox.store.jdbc.TableNames;
import org.axonframework.eventhandling.tokenstore.jdbc.TokenSchema;

/**
 * Where a JDBC or JPA token store keeps its tokens: the table and the columns the relay's one-round-trip claim fence
 * writes ({@link OutboxNodes#extendClaims}). Each name is checked to be a plain SQL identifier (letters, digits and
 * underscores, optionally {@code schema.table} for the table), so no configured name can change the statement.
 *
 * @param table               the token table
 * @param processorNameColumn the column of the processor name
 * @param segmentColumn       the column of the segment
 * @param ownerColumn         the column of the claim's owner
 * @param timestampColumn     the column of the claim's timestamp
 */
public record TokenTable(String table, String processorNameColumn, String segmentColumn, String ownerColumn,
                         String timestampColumn) {

    /** Axon's {@code JpaTokenStore} with Spring Boot's (and Hibernate's snake case) naming: {@code token_entry}. */
    public static final TokenTable JPA = new TokenTable("token_entry", "processor_name", "segment", "owner",
                                                        "timestamp");

    /** Axon's {@code JdbcTokenStore} with its default {@link TokenSchema}: {@code TokenEntry}. */
    public static final TokenTable JDBC = of(new TokenSchema());

    /** @throws IllegalArgumentException naming the name that is not a plain SQL identifier */
    public TokenTable {
        TableNames.validate("token", table);
        for (String column : new String[]{processorNameColumn, segmentColumn, ownerColumn, timestampColumn}) {
            if (column == null || !column.matches("[A-Za-z_][A-Za-z0-9_]{0,49}")) {
                throw new IllegalArgumentException("Invalid token table column name '" + column + "': use letters, "
                                                           + "digits and underscores, starting with a letter or "
                                                           + "underscore, at most 50 characters");
            }
        }
    }

    /** The table of a {@code JdbcTokenStore} configured with {@code schema}. */
    public static TokenTable of(TokenSchema schema) {
        return new TokenTable(schema.tokenTable(), schema.processorNameColumn(), schema.segmentColumn(),
                              schema.ownerColumn(), schema.timestampColumn());
    }
}
