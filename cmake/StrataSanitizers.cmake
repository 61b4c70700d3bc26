# STRATA_SANITIZE="address;undefined" or "thread": applied to every target.
if(STRATA_SANITIZE)
  string(REPLACE ";" "," _san "${STRATA_SANITIZE}")
  add_compile_options(-fsanitize=${_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_san})
  add_compile_definitions(STRATA_SANITIZED=1)
endif()
