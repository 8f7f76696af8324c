package com.example.shop;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/getting-started.md ("On PostgreSQL") shows this project's configuration and dialect as they are. */
class DocsExampleTest {

    private static final Path DOC = Path.of("..", "..", "docs", "getting-started.md");

    @Test
    void theDocShowsTheApplicationYml() throws Exception {
        assertThat(Files.readString(DOC))
                .contains("```yaml\n" + Files.readString(Path.of("src/main/resources/application.yml")) + "```");
    }

    @Test
    void theDocShowsTheDialect() throws Exception {
        assertThat(Files.readString(DOC)).contains(
                "```java\n" + Files.readString(Path.of("src/main/java/com/example/shop/ByteaPostgreSQLDialect.java"))
                        + "```");
    }
}
