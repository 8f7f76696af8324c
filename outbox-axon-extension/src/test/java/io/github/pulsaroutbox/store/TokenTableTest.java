package io.github.pulsaroutbox.store;

import org.axonframework.eventhandling.tokenstore.jdbc.TokenSchema;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenTableTest {

    @Test
    void axonsDefaultsAreTheJpaEntitysAndTheJdbcSchemas() {
        assertThat(TokenTable.JPA).isEqualTo(new TokenTable("token_entry", "processor_name", "segment", "owner",
                                                            "timestamp"));
        assertThat(TokenTable.JDBC).isEqualTo(new TokenTable("TokenEntry", "processorName", "segment", "owner",
                                                             "timestamp"));
    }

    @Test
    void takesTheNamesOfAConfiguredTokenSchema() {
        TokenSchema schema = TokenSchema.builder().setTokenTable("app.tokens").setProcessorNameColumn("p")
                                        .setSegmentColumn("s").setOwnerColumn("o").setTimestampColumn("t").build();

        assertThat(TokenTable.of(schema)).isEqualTo(new TokenTable("app.tokens", "p", "s", "o", "t"));
    }

    @Test
    void refusesNamesThatAreNotPlainIdentifiers() {
        assertThatThrownBy(() -> new TokenTable("tokens; DROP TABLE x", "p", "s", "o", "t"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token table name");
        assertThatThrownBy(() -> new TokenTable("tokens", "p", "s = s OR 1", "o", "t"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("column name 's = s OR 1'");
        assertThatThrownBy(() -> new TokenTable("tokens", "p", "s", null, "t"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
